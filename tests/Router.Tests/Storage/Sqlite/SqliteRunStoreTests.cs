using ComfyOperator.Router.Tests.Runs;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

public sealed class SqliteRunStoreTests : RunStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new SqliteStoreTestDatabase();
}
