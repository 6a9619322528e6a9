using ComfyOperator.Router.Storage;
using ComfyOperator.Router.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

/// <summary>Opening the router database on PostgreSQL: numbered migrations, applied once however many routers start together.</summary>
public sealed class PostgresMigrationTests : IAsyncLifetime
{
    private readonly PostgresStoreTestDatabase _database = new();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await _database.ConnectionStringAsync();

    public Task DisposeAsync() => _database.DisposeAsync().AsTask();

    [Fact]
    public async Task Open_FreshDatabase_RecordsEveryMigrationOnce()
    {
        await using (var database = new PostgresRouterDatabase(_connectionString))
        {
            await database.OpenAsync(CancellationToken.None);
        }

        await using var reopened = new PostgresRouterDatabase(_connectionString);
        await reopened.OpenAsync(CancellationToken.None);

        Assert.Equal(PostgresMigrations.All.Select(m => (m.Version, m.Name)), await RecordedAsync());
        Assert.True(await reopened.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Open_SeveralRoutersAtOnce_EachMigrationAppliedByExactlyOne()
    {
        // A migration slow enough that every router reaches the migration pass while the first is in it.
        SchemaMigration[] migrations =
        [
            .. PostgresMigrations.All,
            new(PostgresMigrations.All.Count + 1, "slow", "SELECT pg_sleep(0.5); CREATE TABLE slow_marker (id integer);"),
        ];
        var databases = Enumerable.Range(0, 4)
            .Select(_ => new PostgresRouterDatabase(_connectionString, migrations, TimeProvider.System, NullLogger<PostgresRouterDatabase>.Instance))
            .ToList();
        try
        {
            var runs = databases.Select(d => Task.Run(() => d.OpenAsync(CancellationToken.None))).ToArray();
            await Task.WhenAll(runs);
        }
        finally
        {
            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }

        Assert.Equal(migrations.Select(m => (m.Version, m.Name)), await RecordedAsync());
        Assert.Equal(1L, await ScalarAsync("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'slow_marker'"));
    }

    [Fact]
    public async Task Open_DatabaseFromNewerRouter_FailsNamingBothVersions()
    {
        await using (var database = new PostgresRouterDatabase(_connectionString))
        {
            await database.OpenAsync(CancellationToken.None);
        }

        await ScalarAsync("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0) RETURNING 0::bigint");

        await using var older = new PostgresRouterDatabase(_connectionString);
        var ex = await Assert.ThrowsAsync<StorageException>(() => older.OpenAsync(CancellationToken.None));
        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ServerDown_StorageExceptionWithoutThePassword()
    {
        var unreachable = new NpgsqlConnectionStringBuilder(_connectionString) { Port = 1, Password = "hunter2-secret", Timeout = 2 }.ConnectionString;
        await using var database = new PostgresRouterDatabase(unreachable);

        var ex = await Assert.ThrowsAsync<StorageException>(() => database.OpenAsync(CancellationToken.None));

        Assert.DoesNotContain("hunter2-secret", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_DatabaseAtMigration7_MovesRunBodiesKeepingEveryRunUsable()
    {
        var before = PostgresMigrations.All.TakeWhile(m => m.Version < PostgresMigrations.RunBodies.Version).ToList();
        await using (var old = new PostgresRouterDatabase(_connectionString, before, TimeProvider.System, NullLogger<PostgresRouterDatabase>.Instance))
        {
            await old.OpenAsync(CancellationToken.None);
        }

        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var seed = new NpgsqlCommand(RunBodiesUpgrade.Seed, connection);
            await seed.ExecuteNonQueryAsync();
        }

        await using var database = new PostgresRouterDatabase(_connectionString);
        await database.OpenAsync(CancellationToken.None);

        Assert.Equal(PostgresMigrations.All.Select(m => (m.Version, m.Name)), await RecordedAsync());
        await RunBodiesUpgrade.AssertIntactAndUsableAsync(new PostgresRunStore(database), new PostgresWebhookStore(database), () => ScalarAsync("SELECT COUNT(*) FROM run_bodies"));
    }

    private async Task<List<(int, string)>> RecordedAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version, name FROM schema_migrations ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        return rows;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
