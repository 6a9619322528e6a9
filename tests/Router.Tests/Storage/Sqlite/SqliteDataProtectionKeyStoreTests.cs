using ComfyOperator.Router.Tests.Security;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

public sealed class SqliteDataProtectionKeyStoreTests : DataProtectionKeyStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new SqliteStoreTestDatabase();
}
