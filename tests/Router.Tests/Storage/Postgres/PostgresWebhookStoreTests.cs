using ComfyOperator.Router.Tests.Webhooks;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresWebhookStoreTests : WebhookStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
