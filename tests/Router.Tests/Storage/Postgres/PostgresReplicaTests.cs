using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Storage.Postgres;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit.Abstractions;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

/// <summary>
/// Several router replicas on one PostgreSQL database: one is active (recovers runs, drives workers,
/// dispatches), the others stand by and take over when it is gone, following its runs to their end.
/// </summary>
public sealed class PostgresReplicaTests(ITestOutputHelper output) : IAsyncLifetime
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
    public async Task ActiveReplicaKilled_StandbyTakesOverWithinSeconds_NothingLostNothingRunTwice()
    {
        var worker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(20) });
        await using var _ = worker;
        var settings = new Dictionary<string, string?>(Settings())
        {
            ["Router:Nodes:0"] = worker.BaseAddress.ToString(),
            ["Router:PendingLimit"] = "1000",
            ["Router:ProbeInterval"] = "00:00:00.200",
            ["Router:WorkerLostGrace"] = "00:00:01",
        };
        using var first = RouterReplicaProcess.Start(WithData(settings, "a"));
        await Wait.UntilAsync(first.IsServingAsync, Deadline, "the first replica to serve");
        var ids = new List<string> { await SubmitAsync(first.Client, steps: 100, seed: 1) };
        await Wait.UntilAsync(async () => await StatusAsync(first.Client, ids[0]) == "running", Deadline, "the long run to be running");
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await SubmitAsync(first.Client, steps: 2, seed: 10 + i));
        }

        using var second = RouterReplicaProcess.Start(WithData(settings, "b"));
        await Wait.UntilAsync(async () => await ScalarAsync("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 1, Deadline, "the second replica to stand by");
        Assert.False(await second.IsServingAsync());

        await first.KillAsync();
        var killed = Stopwatch.StartNew();
        await Wait.UntilAsync(second.IsServingAsync, Deadline, "the second replica to take over");
        var serving = killed.Elapsed;
        var after = await SubmitAsync(second.Client, steps: 2, seed: 99);
        await Wait.UntilAsync(async () => await StatusAsync(second.Client, after) == "succeeded", Deadline, "a run submitted after the takeover to succeed");
        var takingRuns = killed.Elapsed;
        ids.Add(after);

        foreach (var id in ids)
        {
            await Wait.UntilAsync(async () => await StatusAsync(second.Client, id) == "succeeded", Deadline, $"run {id} to succeed");
        }

        Assert.Equal(ids.Count, worker.PromptsExecuted);
        Assert.True(takingRuns < TimeSpan.FromSeconds(20), $"the standby took {takingRuns.TotalSeconds:0.0} s to run a new run");
        output.WriteLine($"SIGKILL to the standby serving: {serving.TotalSeconds:0.00} s; to a new run succeeded on it: {takingRuns.TotalSeconds:0.00} s");
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

    private static Dictionary<string, string?> WithData(Dictionary<string, string?> settings, string name) => new(settings)
    {
        ["Router:DataDirectory"] = Path.Combine(Path.GetTempPath(), "router-tests", Guid.NewGuid().ToString("N"), name),
    };

    private static async Task<string> SubmitAsync(HttpClient client, int steps, int seed)
    {
        using var response = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15("a lighthouse", steps, seed)));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<string?> StatusAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("status").GetString();

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
