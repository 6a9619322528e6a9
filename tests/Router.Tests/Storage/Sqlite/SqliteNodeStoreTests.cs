using ComfyOperator.Router.Tests.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

public sealed class SqliteNodeStoreTests : NodeStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new SqliteStoreTestDatabase();
}
