using ComfyOperator.Router.Tests.Keys;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresApiKeyStoreTests : ApiKeyStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
