using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.Webhooks;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresWebhookStoreTests : WebhookStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
