using ComfyOperator.Router.Tests.Workers;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresAbandonedPromptStoreTests : AbandonedPromptStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
