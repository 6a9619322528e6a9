using ComfyOperator.Router.Tests.Runs;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresRunStoreTests : RunStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
