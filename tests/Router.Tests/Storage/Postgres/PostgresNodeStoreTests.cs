using ComfyOperator.Router.Tests.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresNodeStoreTests : NodeStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
