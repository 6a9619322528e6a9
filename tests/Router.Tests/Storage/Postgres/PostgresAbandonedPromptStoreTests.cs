using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.Workers;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresAbandonedPromptStoreTests : AbandonedPromptStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
