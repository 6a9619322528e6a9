using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Storage.Postgres;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

/// <summary>
/// Several router replicas on one PostgreSQL database: one is active (recovers runs, drives workers,
/// dispatches), the others stand by and take over when it is gone, following its runs to their end.
/// </summary>
public sealed class PostgresReplicaTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly PostgresStoreTestDatabase _database = new();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await _database.ConnectionStringAsync();

    public Task DisposeAsync() => _database.DisposeAsync().AsTask();

    [Fact]
    public async Task SecondReplica_FirstActive_StandsByThenTakesOverAndFinishesTheFirstsRunsOnce()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(20), Settings());
        var running = await cluster.SubmitAsync(steps: 60, seed: 1);
        await cluster.WaitForStatusAsync(running, "running", Deadline);
        var queued = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            queued.Add(await cluster.SubmitAsync(steps: 2, seed: 10 + i));
        }

        await using var standby = new RouterFactory(cluster.Settings);
        var standbyStarted = Task.Run(standby.CreateAuthorizedClient);
        await Wait.UntilAsync(async () => await ScalarAsync("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 1, Deadline, "the second replica to wait for the lease");
        Assert.False(standbyStarted.IsCompleted, "the second replica serves only once the first is gone");

        await cluster.Router.DisposeAsync();
        using var client = await standbyStarted.WaitAsync(Deadline);

        foreach (var id in queued.Prepend(running))
        {
            await Wait.UntilAsync(async () => (await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("status").GetString() == "succeeded", Deadline, $"run {id} to succeed on the second replica");
        }

        Assert.Equal(7, cluster.Workers.Sum(w => w.PromptsExecuted));
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{running}")).GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task ActiveReplica_LeaseSessionEnds_StopsItself()
    {
        await using var router = new RouterFactory(Settings());
        using var client = router.CreateAuthorizedClient();
        var lifetime = router.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());

        Assert.Equal(1L, await ScalarAsync($"SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = {PostgresActiveReplicaLease.LockKey & 0xffffffff} AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) t"));

        await stopping.Task.WaitAsync(Deadline);
    }

    private Dictionary<string, string?> Settings() => new()
    {
        ["Router:Store:Kind"] = "postgres",
        ["Router:Store:ConnectionString"] = _connectionString,
    };

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
