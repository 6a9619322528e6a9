using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.Workers;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

public sealed class SqliteAbandonedPromptStoreTests : AbandonedPromptStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new SqliteStoreTestDatabase();
}
