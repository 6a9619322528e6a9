using ComfyOperator.Router.Storage.Postgres;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.Postgres;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

/// <summary>A fresh database on the test run's PostgreSQL server, dropped on dispose.</summary>
internal sealed class PostgresStoreTestDatabase : IStoreTestDatabase
{
    private readonly Lazy<Task<(PostgresServer Server, string ConnectionString)>> _created = new(CreateAsync);

    public Task<string> ConnectionStringAsync() => _created.Value.ContinueWith(t => t.Result.ConnectionString, TaskScheduler.Default);

    public async Task<StoreSession> OpenAsync()
    {
        var (_, connectionString) = await _created.Value;
        var database = new PostgresRouterDatabase(connectionString);
        await database.OpenAsync(CancellationToken.None);
        return new StoreSession(
            new PostgresRunStore(database),
            new PostgresWebhookStore(database),
            new PostgresAbandonedPromptStore(database),
            new PostgresNodeStore(database),
            new PostgresApiKeyStore(database),
            new PostgresUsageStore(database),
            new PostgresUserFileStore(database),
            new PostgresDataProtectionKeyStore(database),
            database);
    }

    public async ValueTask DisposeAsync()
    {
        if (_created.IsValueCreated)
        {
            var (server, connectionString) = await _created.Value;
            await server.DropDatabaseAsync(connectionString);
        }
    }

    private static async Task<(PostgresServer, string)> CreateAsync()
    {
        var server = await PostgresServer.SharedAsync();
        return (server, await server.CreateDatabaseAsync());
    }
}
