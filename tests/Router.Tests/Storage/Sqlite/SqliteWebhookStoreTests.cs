using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.Webhooks;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

public sealed class SqliteWebhookStoreTests : WebhookStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new SqliteStoreTestDatabase();
}
