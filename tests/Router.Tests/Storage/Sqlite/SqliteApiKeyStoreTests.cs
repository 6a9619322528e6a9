using ComfyOperator.Router.Tests.Keys;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

public sealed class SqliteApiKeyStoreTests : ApiKeyStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new SqliteStoreTestDatabase();
}
