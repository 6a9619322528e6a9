using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.UserData;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

public sealed class SqliteUserFileStoreTests : UserFileStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new SqliteStoreTestDatabase();
}
