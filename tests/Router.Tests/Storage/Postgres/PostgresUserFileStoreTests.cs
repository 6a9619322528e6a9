using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.UserData;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

public sealed class PostgresUserFileStoreTests : UserFileStoreContractTests
{
    private protected override IStoreTestDatabase CreateDatabase() => new PostgresStoreTestDatabase();
}
