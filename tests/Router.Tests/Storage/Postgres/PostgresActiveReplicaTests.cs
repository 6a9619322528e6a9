using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Storage.Postgres;
using ComfyOperator.Router.Tests.ComfyApi;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.WebUi;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Xunit.Abstractions;

namespace ComfyOperator.Router.Tests.Storage.Postgres;

/// <summary>
/// Active/active replicas on one PostgreSQL database (<c>Router:Store:ReplicaMode=active</c>): every replica
/// accepts any request and answers for any run; each worker is driven by the replica holding its lease;
/// runs are claimed so that none is dispatched twice. Real server, real simulators, routers in-process
/// (several hosts) or as processes where one must die abruptly.
/// </summary>
public sealed class PostgresActiveReplicaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly PostgresStoreTestDatabase _database = new();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await _database.ConnectionStringAsync();

    public Task DisposeAsync() => _database.DisposeAsync().AsTask();

    [Fact]
    public async Task ThreeReplicas_RunsSubmittedRoundRobin_AllSucceedEachExecutedOnceWorkersShared()
    {
        await using var cluster = await SimulatedCluster.StartAsync(3, o => o.StepDelay = TimeSpan.FromMilliseconds(5), Settings());
        await using var second = new RouterFactory(cluster.Settings);
        await using var third = new RouterFactory(cluster.Settings);
        using var secondClient = second.CreateAuthorizedClient();
        using var thirdClient = third.CreateAuthorizedClient();
        HttpClient[] clients = [cluster.Client, secondClient, thirdClient];

        // Every replica takes its share: one worker each once all three renew.
        await Wait.UntilAsync(async () => await ScalarAsync("SELECT COUNT(DISTINCT holder) FROM worker_leases WHERE expires_at > clock_timestamp()") == 3, Deadline, "each replica to hold a worker");

        PostgresRouterDatabase[] databases = [.. new[] { cluster.Router, second, third }.Select(r => r.Services.GetRequiredService<PostgresRouterDatabase>())];
        var roundTripsBefore = databases.Sum(d => d.RoundTrips);
        var clock = Stopwatch.StartNew();
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            ids.Add(await SubmitAsync(clients[i % 3], steps: 2, seed: i));
        }

        // Watched on the database itself, so the figure below counts the replicas' own store calls only.
        await Wait.UntilAsync(async () => await ScalarAsync("SELECT COUNT(*) FROM runs WHERE status = 'succeeded'") == ids.Count, Deadline, "every run to succeed");
        var roundTrips = databases.Sum(d => d.RoundTrips) - roundTripsBefore;
        output.WriteLine($"{(double)roundTrips / ids.Count:0.0} database round trips per run (lease renewals of the {clock.Elapsed.TotalSeconds:0.0} s included), three replicas");
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal("succeeded", await StatusAsync(clients[(i + 1) % 3], ids[i]));
        }
        Assert.Equal(30, cluster.Workers.Sum(w => w.PromptsExecuted));
        Assert.All(cluster.Workers, w => Assert.True(w.PromptsExecuted > 0, "every worker ran some of the runs"));
        foreach (var id in ids)
        {
            Assert.Equal(1, (await cluster.Client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("attempts").GetInt32());
        }
    }

    [Fact]
    public async Task Start_LocalOutputStore_WarnsThatEveryReplicaMustShareItsOutputDirectory()
    {
        var logs = new CapturedLogs();
        await using var router = new RouterFactory(Settings(), services: s => s.AddSingleton<ILoggerProvider>(logs));
        using var client = router.CreateAuthorizedClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);

        var outputs = router.Services.GetRequiredService<IOptions<RouterOptions>>().Value.ResolvedOutputDirectory;
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(outputs, StringComparison.Ordinal) && e.Message.Contains("every replica must mount", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Message.Contains("input cache", StringComparison.Ordinal) && e.Message.Contains(router.DataDirectory, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebUiSession_SignedInOnOneReplica_AcceptedOnTheOtherWithItsOwnDataDirectory()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: Settings());
        await using var other = new RouterFactory(cluster.Settings);
        Assert.NotEqual(cluster.DataDirectory, other.DataDirectory);

        // Each replica has already used its key ring (a refused cookie) before the other signs in.
        Assert.Equal(HttpStatusCode.Unauthorized, await WebUiApiTests.GetWithCookieAsync(other, "/api/settings", BrowserSession.CookieName + "=x"));
        var cookie = await WebUiApiTests.SessionCookieAsync(cluster.Router);
        var otherCookie = await WebUiApiTests.SessionCookieAsync(other);

        Assert.Equal(HttpStatusCode.OK, await WebUiApiTests.GetWithCookieAsync(other, "/api/settings", cookie));
        Assert.Equal(HttpStatusCode.OK, await WebUiApiTests.GetWithCookieAsync(cluster.Router, "/api/settings", otherCookie));
        Assert.Equal(HttpStatusCode.Unauthorized, await WebUiApiTests.GetWithCookieAsync(other, "/api/settings", null));
    }

    [Fact]
    public async Task KeyRevokedOnOneReplica_UsedOnTheOtherBefore_RefusedThereAtOnce()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: Settings());
        await using var other = new RouterFactory(cluster.Settings);
        using var created = await cluster.Client.PostAsJsonAsync("/v1/keys", new { name = "replicated" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var client = other.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", body.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/runs")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await cluster.Client.DeleteAsync($"/v1/keys/{body.GetProperty("id").GetString()}")).StatusCode);

        using var revoked = await client.GetAsync("/v1/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("revoked", await revoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventsOnOtherReplica_RunDrivenByTheWorkersHolder_FollowedLiveToTheEnd()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(20), Settings());
        await using var other = new RouterFactory(cluster.Settings);
        using var otherClient = other.CreateAuthorizedClient();
        var (holder, follower) = await HolderAndOtherAsync((cluster.Router, cluster.Client), (other, otherClient));

        // Submitted to and followed on the replica that does not drive the worker.
        var id = await SubmitAsync(follower.Client, steps: 40, seed: 1);
        using var timeout = new CancellationTokenSource(Deadline);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events");
        using var response = await follower.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var sse = new SseClient(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = await sse.ReadToEndAsync(timeout.Token);

        var types = events.Select(e => e.Type).ToList();
        output.WriteLine(string.Join(" ", types));
        Assert.Equal("succeeded", types[^1]);
        Assert.True(types.Count(t => t == "progress") >= 10, "the progress written by the other replica arrives live");
        var sequences = events.Skip(1).Select(e => long.Parse(e.Id!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Distinct().Count(), sequences.Count);
        Assert.Equal(1, cluster.Workers[0].PromptsExecuted);
        Assert.Equal("succeeded", await StatusAsync(holder.Client, id));
    }

    [Fact]
    public async Task CancelOnOtherReplica_RunOnTheHoldersWorker_InterruptsOnlyThatPrompt()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50), Settings());
        await using var other = new RouterFactory(cluster.Settings);
        using var otherClient = other.CreateAuthorizedClient();
        var (holder, follower) = await HolderAndOtherAsync((cluster.Router, cluster.Client), (other, otherClient));

        var cancelled = await SubmitAsync(holder.Client, steps: 400, seed: 1);
        await Wait.UntilAsync(async () => await StatusAsync(follower.Client, cancelled) == "running", Deadline, "the long run to be running");
        var kept = await SubmitAsync(holder.Client, steps: 3, seed: 2);

        using var response = await follower.Client.DeleteAsync($"/v1/runs/{cancelled}");
        Assert.True(response.IsSuccessStatusCode, $"DELETE answered {(int)response.StatusCode}");

        await Wait.UntilAsync(async () => await StatusAsync(follower.Client, cancelled) == "cancelled", Deadline, "the run to be cancelled by its worker's holder");
        await Wait.UntilAsync(async () => await StatusAsync(follower.Client, kept) == "succeeded", Deadline, "the other run to succeed");
        Assert.True(cluster.Workers[0].InterruptRequests >= 1, "the holder interrupted the prompt on the worker");
        Assert.Contains("interrupted", (await cluster.Client.GetFromJsonAsync<JsonElement>($"/v1/runs/{cancelled}")).GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicaKilledMidLoad_OtherTakesItsWorkers_NothingLostNothingRunTwice()
    {
        var workers = new List<ComfyUiSimulator>();
        for (var i = 0; i < 2; i++)
        {
            workers.Add(await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(20) }));
        }

        try
        {
            var settings = new Dictionary<string, string?>(Settings())
            {
                ["Router:Nodes:0"] = string.Join(",", workers.Select(w => w.BaseAddress.ToString())),
                ["Router:PendingLimit"] = "1000",
                ["Router:ProbeInterval"] = "00:00:00.200",
                ["Router:WorkerLostGrace"] = "00:00:01",
            };
            using var first = RouterReplicaProcess.Start(WithData(settings, "a"));
            using var second = RouterReplicaProcess.Start(WithData(settings, "b"));
            await Wait.UntilAsync(first.IsServingAsync, Deadline, "the first replica to serve");
            await Wait.UntilAsync(second.IsServingAsync, Deadline, "the second replica to serve");
            await Wait.UntilAsync(async () => await ScalarAsync("SELECT COUNT(DISTINCT holder) FROM worker_leases WHERE expires_at > clock_timestamp()") == 2, Deadline, "each replica to hold a worker");

            var ids = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                ids.Add(await SubmitAsync(i % 2 == 0 ? first.Client : second.Client, steps: 8, seed: i));
            }

            await Wait.UntilAsync(async () => await ScalarAsync("SELECT COUNT(*) FROM runs WHERE status = 'succeeded'") >= 4, Deadline, "some runs to finish");
            await first.KillAsync();
            var killed = Stopwatch.StartNew();

            // The killed replica's worker is taken over once its lease is not renewed.
            await Wait.UntilAsync(async () => await ScalarAsync("SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM worker_leases WHERE expires_at > clock_timestamp() GROUP BY holder) h") == 2, Deadline, "the second replica to hold both workers");
            var takenOver = killed.Elapsed;
            for (var i = 0; i < 4; i++)
            {
                ids.Add(await SubmitAsync(second.Client, steps: 2, seed: 100 + i));
            }

            foreach (var id in ids)
            {
                await Wait.UntilAsync(async () => await StatusAsync(second.Client, id) == "succeeded", Deadline, $"run {id} to succeed");
            }

            var allDone = killed.Elapsed;
            Assert.Equal(ids.Count, workers.Sum(w => w.PromptsExecuted));
            Assert.True(takenOver < TimeSpan.FromSeconds(20), $"the worker leases were taken over after {takenOver.TotalSeconds:0.0} s");
            output.WriteLine($"SIGKILL to its workers' leases taken over: {takenOver.TotalSeconds:0.00} s; to all {ids.Count} runs succeeded: {allDone.TotalSeconds:0.00} s");
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ComfyWebSocket_OnTheReplicaWithoutWorkers_CarriesItsPromptsRunByTheOtherOnlyToItsClient()
    {
        await using var replicas = await TwoReplicasAsync(TimeSpan.FromMilliseconds(20));
        var (cluster, holder, follower) = (replicas.Cluster, replicas.Holder, replicas.Follower);
        await using var script = await ComfyWsClient.ConnectAsync(follower.Router, "script");
        await using var bystander = await ComfyWsClient.ConnectAsync(follower.Router, "bystander");
        await script.WaitForAsync("status");
        await bystander.WaitForAsync("status");

        // Submitted through the replica the client is on, and through the other: only the other drives the worker.
        string[] prompts = [await QueuePromptAsync(follower.Client, "script", 6, 1), await QueuePromptAsync(holder.Client, "script", 6, 2)];

        foreach (var promptId in prompts)
        {
            await script.WaitForDoneAsync(promptId, Deadline);
            var messages = script.Messages.Where(m => m.Data?["prompt_id"]?.GetValue<string>() == promptId).ToList();
            output.WriteLine(string.Join(" ", messages.Select(m => m.Type + (m.Data!["node"] is { } node ? ":" + node : ""))));
            var types = messages.Select(m => m.Type).ToList();
            Assert.Equal(1, types.Count(t => t == "execution_start"));
            Assert.Equal(1, types.Count(t => t == "execution_success"));
            Assert.Equal(1, messages.Count(m => m.Type == "executing" && m.Data!["node"] is null));
            Assert.Equal("executing", types[^1]);
            Assert.True(types.IndexOf("execution_start") < types.IndexOf("progress"), "execution_start comes first");
            Assert.True(types.Count(t => t == "progress") >= 3, "the sampler's steps arrive live");
            Assert.Contains(messages, m => m.Type == "executing" && m.Data!["node"]?.GetValue<string>() == "3");
            Assert.Contains(messages, m => m.Type == "progress_state" && m.Data!["nodes"]!["3"]!["state"]!.GetValue<string>() == "running");
            Assert.All(messages.Where(m => m.Type == "progress"), m => Assert.Equal("3", m.Data!["node"]!.GetValue<string>()));

            // The image the executed message names is the one /history and /view serve on this replica.
            var executed = Assert.Single(messages, m => m.Type == "executed");
            var image = executed.Data!["output"]!["images"]![0]!;
            var history = await follower.Client.GetFromJsonAsync<JsonObject>($"/history/{promptId}");
            var listed = history![promptId]!["outputs"]![executed.Data["node"]!.GetValue<string>()]!["images"]![0]!;
            Assert.True(JsonNode.DeepEquals(listed, image), $"executed names {image}, /history lists {listed}");
            var png = await follower.Client.GetByteArrayAsync($"/view?filename={Uri.EscapeDataString(image["filename"]!.GetValue<string>())}&subfolder={promptId}&type=output");
            Assert.Equal("PNG"u8.ToArray(), png[1..4]);
        }

        await script.WaitForAsync("status", d => d["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>() == 0);
        Assert.Equal(prompts.ToHashSet(), script.PromptIds());
        Assert.Empty(bystander.PromptIds());
        Assert.All(bystander.Messages, m => Assert.Equal("status", m.Type));
        Assert.Equal(2, cluster.Workers[0].PromptsExecuted);
    }

    [Fact]
    public async Task ComfyWebSocket_ReconnectedToTheOtherReplica_PicksUpThePromptOnceWithoutDuplicates()
    {
        await using var replicas = await TwoReplicasAsync(TimeSpan.FromMilliseconds(50));
        var (holder, follower) = (replicas.Holder, replicas.Follower);

        // On the replica that drives the worker, for a prompt submitted through the other: its messages once, not also the relayed copies.
        string promptId;
        await using (var first = await ComfyWsClient.ConnectAsync(holder.Router, "moving"))
        {
            promptId = await QueuePromptAsync(follower.Client, "moving", 40, 1);
            await first.WaitForAsync("progress", d => d["prompt_id"]!.GetValue<string>() == promptId && d["value"]!.GetValue<double>() >= 3, Deadline);
            var progress = first.Messages.Where(m => m.Type == "progress").Select(m => m.Data!["value"]!.GetValue<double>()).ToList();
            Assert.Equal(progress.Distinct().Count(), progress.Count);
            Assert.Equal(1, first.Messages.Count(m => m.Type == "execution_start"));

            // ComfyUI's /queue on the replica that did not accept it shows the prompt with its client id.
            var queue = await holder.Client.GetFromJsonAsync<JsonObject>("/queue");
            var item = Assert.Single(queue!["queue_running"]!.AsArray())!;
            Assert.Equal(promptId, item[1]!.GetValue<string>());
            Assert.Equal("moving", item[3]!["client_id"]!.GetValue<string>());
        }

        await using var second = await ComfyWsClient.ConnectAsync(follower.Router, "moving");
        var status = await second.WaitForAsync("status");
        Assert.Equal(1, status.Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        await second.WaitForDoneAsync(promptId, Deadline);
        var messages = second.Messages.Where(m => m.Data?["prompt_id"]?.GetValue<string>() == promptId).ToList();
        Assert.Contains(messages, m => m.Type == "progress");
        Assert.Single(messages, m => m.Type == "executed");
        Assert.Single(messages, m => m.Type == "execution_success");
        Assert.Single(messages, m => m.Type == "executing" && m.Data!["node"] is null);
    }

    [Fact]
    public async Task ComfyWebSocket_PromptInterruptedThroughTheReplicaWithoutWorkers_EndsWithExecutionInterrupted()
    {
        await using var replicas = await TwoReplicasAsync(TimeSpan.FromMilliseconds(50));
        var (cluster, follower) = (replicas.Cluster, replicas.Follower);
        await using var script = await ComfyWsClient.ConnectAsync(follower.Router, "interrupting");

        var promptId = await QueuePromptAsync(follower.Client, "interrupting", 400, 1);
        await script.WaitForAsync("progress", d => d["prompt_id"]!.GetValue<string>() == promptId, Deadline);
        using var interrupt = await follower.Client.PostAsJsonAsync("/interrupt", new JsonObject { ["prompt_id"] = promptId });
        interrupt.EnsureSuccessStatusCode();

        await script.WaitForDoneAsync(promptId, Deadline);
        var ends = script.Messages.Where(m => m.Type is "execution_interrupted" or "execution_success" or "execution_error").ToList();
        Assert.Equal(promptId, Assert.Single(ends, m => m.Type == "execution_interrupted").Data!["prompt_id"]!.GetValue<string>());
        Assert.Single(ends);
        Assert.True(cluster.Workers[0].InterruptRequests >= 1, "the holder interrupted the prompt on the worker");
    }

    private static async Task<string> QueuePromptAsync(HttpClient client, string clientId, int steps, int seed)
    {
        using var response = await client.PostAsJsonAsync("/prompt", new JsonObject { ["prompt"] = Graphs.Sd15("a lighthouse", steps, seed), ["client_id"] = clientId });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["prompt_id"]!.GetValue<string>();
    }

    /// <summary>
    /// One simulated worker and two replicas sharing one output directory (as on a ReadWriteMany volume); returns once
    /// one of them holds the worker.
    /// </summary>
    private async Task<TwoReplicas> TwoReplicasAsync(TimeSpan stepDelay)
    {
        var settings = new Dictionary<string, string?>(Settings())
        {
            ["Router:OutputDirectory"] = Path.Combine(Path.GetTempPath(), "router-tests", Guid.NewGuid().ToString("N"), "outputs"),
        };
        var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = stepDelay, settings);
        var other = new RouterFactory(cluster.Settings);
        var otherClient = other.CreateAuthorizedClient();
        var (holder, follower) = await HolderAndOtherAsync((cluster.Router, cluster.Client), (other, otherClient));
        return new TwoReplicas(cluster, other, otherClient, holder, follower);
    }

    /// <summary>Waits for one of the two replicas to hold the (only) worker; returns it first.</summary>
    private async Task<((RouterFactory Router, HttpClient Client) Holder, (RouterFactory Router, HttpClient Client) Other)> HolderAndOtherAsync(
        (RouterFactory Router, HttpClient Client) a, (RouterFactory Router, HttpClient Client) b)
    {
        string? holder = null;
        await Wait.UntilAsync(async () => (holder = await TextAsync("SELECT holder FROM worker_leases WHERE expires_at > clock_timestamp() LIMIT 1")) is not null, Deadline, "a replica to hold the worker");
        return a.Router.Services.GetRequiredService<PostgresRouterDatabase>().ReplicaId == holder ? (a, b) : (b, a);
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
        ["Router:Store:ReplicaMode"] = "active",
    };

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<string?> TextAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync() as string;
    }

    private sealed record TwoReplicas(
        SimulatedCluster Cluster,
        RouterFactory Other,
        HttpClient OtherClient,
        (RouterFactory Router, HttpClient Client) Holder,
        (RouterFactory Router, HttpClient Client) Follower) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            OtherClient.Dispose();
            await Other.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }
}
