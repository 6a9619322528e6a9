using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Storage.Postgres;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

/// <summary>
/// The scheduler's per-key policies over a fleet of active/active replicas on one PostgreSQL database:
/// fair share counts every replica's dispatches, and pending limits are decided by the database, so
/// they hold for the fleet as they do for one router. Real server, real simulators, routers in-process.
/// </summary>
public sealed class PostgresFleetPolicyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string OtherKey = "test-key-other-0123456789";
    private const string FitsFewCheckpoint = "fits-few.safetensors";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly PostgresStoreTestDatabase _database = new();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await _database.ConnectionStringAsync();

    public Task DisposeAsync() => _database.DisposeAsync().AsTask();

    /// <summary>
    /// Three workers split 2:1 between two replicas; key B's runs fit only the two workers of the first
    /// replica, key A's fit all three. Each key submits its backlog to a different replica. With one
    /// fair-share clock per replica the first replica alternates the keys on its two workers and the
    /// second gives its worker to A: B gets a third of the fleet. Counting every replica's claims, the
    /// first replica sees A served by the other and favours B until they are level: half each.
    /// </summary>
    [Fact]
    public async Task FairShare_KeysOnDifferentReplicasWorkersSplitUnevenly_EqualSharesOfTheFleet()
    {
        var workers = new List<ComfyUiSimulator>();
        for (var i = 0; i < 3; i++)
        {
            workers.Add(await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(25) }));
        }

        try
        {
            foreach (var worker in workers.Take(2))
            {
                await File.WriteAllBytesAsync(Path.Combine(worker.ModelsDirectory, "checkpoints", FitsFewCheckpoint), [1, 2, 3]);
            }

            // The second replica knows only the third worker and starts first, so it holds that one; the
            // first then takes the other two (its share of three workers over two replicas).
            await using var small = new RouterFactory(Settings(workers.Skip(2)));
            var smallId = small.Services.GetRequiredService<PostgresRouterDatabase>().ReplicaId;
            await Wait.UntilAsync(async () => await ScalarAsync($"SELECT COUNT(*) FROM worker_leases WHERE holder = '{smallId}' AND expires_at > clock_timestamp()") == 1, Deadline, "the second replica to hold its worker");
            await using var large = new RouterFactory(Settings(workers));
            var largeId = large.Services.GetRequiredService<PostgresRouterDatabase>().ReplicaId;
            await Wait.UntilAsync(async () => await ScalarAsync($"SELECT COUNT(*) FROM worker_leases WHERE holder = '{largeId}' AND expires_at > clock_timestamp()") == 2, Deadline, "the first replica to hold two workers");

            using var keyB = large.CreateAuthorizedClient();
            using var keyA = small.CreateClient();
            keyA.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OtherKey);

            // Both backlogs go in together; the share is measured over dispatches after the last submit.
            var submits = new List<Task<string>>();
            for (var i = 0; i < 40; i++)
            {
                submits.Add(SubmitAsync(keyA, Graphs.Sd15("a lighthouse", 6, i)));
                submits.Add(SubmitAsync(keyB, WithCheckpoint(Graphs.Sd15("a harbour", 6, i), FitsFewCheckpoint)));
            }

            await Task.WhenAll(submits);
            var submitted = await ScalarAsync("SELECT MAX(queued_at) FROM runs");

            // Right after the submits the first replica is still levelling B up to what A got from the second
            // (two dispatches of three to B): over 30 dispatches that catch-up alone once gave B 60 %. Over 45
            // it weighs less, and the range still tells the fleet's half from one replica's clock (a third) and
            // from B favoured for ever (two thirds).
            const int Measured = 45;
            await Wait.UntilAsync(async () => await ScalarAsync($"SELECT COUNT(*) FROM runs WHERE dispatched_at > {submitted}") >= Measured, Deadline, $"{Measured} dispatches after the last submit");

            var owners = await OwnersInDispatchOrderAsync(submitted, Measured);
            var ownerB = RunOwner.KeyId(RouterFactory.ApiKey);
            var shareB = (double)owners.Count(o => o == ownerB) / owners.Count;
            output.WriteLine($"key B's share of the {owners.Count} dispatches after the last submit: {shareB:P0} (A's backlog left {await ScalarAsync("SELECT COUNT(*) FROM runs WHERE status = 'queued' AND owner <> '" + ownerB + "'")}, B's {await ScalarAsync("SELECT COUNT(*) FROM runs WHERE status = 'queued' AND owner = '" + ownerB + "'")})");
            Assert.True(await ScalarAsync($"SELECT COUNT(*) FROM runs WHERE status = 'queued' AND owner = '{ownerB}'") > 0, "key B still had backlog");
            Assert.True(await ScalarAsync($"SELECT COUNT(*) FROM runs WHERE status = 'queued' AND owner <> '{ownerB}'") > 0, "key A still had backlog");

            // One clock per replica gives B a third; the fleet's clock gives it half.
            Assert.InRange(shareB, 0.42, 0.62);
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// One key with <c>Router:MaxPendingPerKey=5</c> sends 40 submissions at once, half to each replica (no
    /// worker, so nothing leaves the queue): the database decides each in the insert's transaction, so exactly
    /// five are queued and the rest get the answer one router gives, 429 with the key's limit.
    /// </summary>
    [Fact]
    public async Task PendingLimitPerKey_ConcurrentSubmitsSplitOverTwoReplicas_ExactlyTheLimitAccepted()
    {
        var settings = new Dictionary<string, string?>(Settings([])) { ["Router:MaxPendingPerKey"] = "5" };
        await using var first = new RouterFactory(settings);
        await using var second = new RouterFactory(settings);
        using var firstClient = first.CreateAuthorizedClient();
        using var secondClient = second.CreateAuthorizedClient();
        HttpClient[] clients = [firstClient, secondClient];
        await Task.WhenAll(clients.Select(c => c.GetAsync("/healthz")));

        using var start = new SemaphoreSlim(0);
        var submits = Enumerable.Range(0, 40).Select(async i =>
        {
            await start.WaitAsync();
            using var response = await clients[i % 2].PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15("a lighthouse", 4, i)));
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, Type: body.TryGetProperty("type", out var type) ? type.GetString() : null);
        }).ToList();
        start.Release(submits.Count);
        var answers = await Task.WhenAll(submits);

        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Accepted));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Accepted), a => Assert.Equal(
            (HttpStatusCode.TooManyRequests, (TimeSpan?)TimeSpan.FromSeconds(5), Problems.KeyLimitReached),
            (a.StatusCode, a.RetryAfter, a.Type)));
        Assert.Equal(5, await ScalarAsync("SELECT COUNT(*) FROM runs WHERE status = 'queued'"));
    }

    private static JsonObject WithCheckpoint(JsonObject graph, string checkpoint)
    {
        graph["4"]!["inputs"]!["ckpt_name"] = checkpoint;
        return graph;
    }

    private static async Task<string> SubmitAsync(HttpClient client, JsonObject graph)
    {
        using var response = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private async Task<List<string>> OwnersInDispatchOrderAsync(long after, int count)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT owner FROM runs WHERE dispatched_at > {after} ORDER BY dispatched_at, seq LIMIT {count}", connection);
        var owners = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            owners.Add(reader.GetString(0));
        }

        return owners;
    }

    private Dictionary<string, string?> Settings(IEnumerable<ComfyUiSimulator> workers) => new()
    {
        ["Router:Store:Kind"] = "postgres",
        ["Router:Store:ConnectionString"] = _connectionString,
        ["Router:Store:ReplicaMode"] = "active",
        ["Router:ApiKeys:1"] = OtherKey,
        ["Router:Nodes:0"] = string.Join(",", workers.Select(w => w.BaseAddress.ToString())),
        ["Router:PendingLimit"] = "1000",
        ["Router:HistoryLimit"] = "1000",
    };

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
