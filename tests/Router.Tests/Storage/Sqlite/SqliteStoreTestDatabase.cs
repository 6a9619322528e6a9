using ComfyOperator.Router.Storage.Sqlite;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Storage.Sqlite;

/// <summary>A router.db in a fresh temporary folder.</summary>
internal sealed class SqliteStoreTestDatabase : IStoreTestDatabase
{
    private readonly string _directory = Directory.CreateTempSubdirectory("router-store-").FullName;

    public string Path => System.IO.Path.Combine(_directory, "router.db");

    public async Task<StoreSession> OpenAsync()
    {
        var database = new SqliteRouterDatabase(Path);
        await database.OpenAsync(CancellationToken.None);
        return new StoreSession(
            new SqliteRunStore(database),
            new SqliteWebhookStore(database),
            new SqliteAbandonedPromptStore(database),
            new SqliteNodeStore(database),
            new SqliteApiKeyStore(database),
            new SqliteUsageStore(database),
            new SqliteUserFileStore(database),
            new SqliteDataProtectionKeyStore(database),
            database);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
