using ComfyOperator.Router.Tests.Support;
using Npgsql;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

/// <summary>The whole router on the PostgreSQL store: runs accepted, dispatched, finished and followed across a restart.</summary>
public sealed class PostgresRouterTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly PostgresStoreTestDatabase _database = new();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await _database.ConnectionStringAsync();

    public Task DisposeAsync() => _database.DisposeAsync().AsTask();

    [Fact]
    public async Task Runs_OnPostgresStore_SucceedAndARunMidWayIsFollowedAcrossARestart()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(20), new Dictionary<string, string?>
        {
            ["Router:Store:Kind"] = "postgres",
            ["Router:Store:ConnectionString"] = _connectionString,
        });
        var quick = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            quick.Add(await cluster.SubmitAsync(steps: 2, seed: 10 + i));
        }

        foreach (var id in quick)
        {
            await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        }

        var slow = await cluster.SubmitAsync(steps: 60, seed: 99);
        await cluster.WaitForStatusAsync(slow, "running", Deadline);
        await cluster.RestartRouterAsync();

        var done = await cluster.WaitForStatusAsync(slow, "succeeded", Deadline);

        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Equal(5, cluster.Workers.Sum(w => w.PromptsExecuted));
        Assert.Equal(5L, await ScalarAsync("SELECT COUNT(*) FROM runs WHERE status = 'succeeded'"));
        Assert.False(File.Exists(Path.Combine(cluster.DataDirectory, "router.db")), "the SQLite file is not created when the store is PostgreSQL");
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
