using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>Runs end to end against ComfyUI simulators.</summary>
public sealed class DispatchTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Run_OnOneWorker_SucceedsWithEventsInOrderAndPngOutput()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        var id = await cluster.SubmitAsync(steps: 4);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await cluster.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events"), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var sse = new SseClient(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = await sse.ReadToEndAsync(timeout.Token);
        var run = await cluster.GetRunAsync(id);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        Assert.Equal(cluster.Workers[0].BaseAddress.ToString(), run.GetProperty("worker").GetString());
        var types = events.Select(e => e.Type).ToList();
        Assert.Equal("state", types[0]);
        // A subscriber that arrives after the end gets only the final state; otherwise the stream ends with the outcome.
        Assert.True(types[^1] == "succeeded" || JsonDocument.Parse(events[0].Data).RootElement.GetProperty("status").GetString() == "succeeded", string.Join(",", types));
        var ids = events.Skip(1).Select(e => long.Parse(e.Id!)).ToList();
        Assert.Equal(ids.Order(), ids);
        var resumed = await ReadAllEventsAsync(cluster, id, "0");
        Assert.Equal(["queued", "dispatching", "started"], resumed.Select(e => e.Type).Take(3));
        Assert.Contains("progress", resumed.Select(e => e.Type));
        Assert.Equal("succeeded", resumed[^1].Type);
        var lastProgress = JsonDocument.Parse(resumed.Last(e => e.Type == "progress").Data).RootElement;
        Assert.Equal("3", lastProgress.GetProperty("node").GetString());
        Assert.Equal(4, lastProgress.GetProperty("max").GetDouble());
        Assert.InRange(lastProgress.GetProperty("fraction").GetDouble(), 0.01, 1);

        var output = Assert.Single(run.GetProperty("outputs").EnumerateArray());
        var bytes = await cluster.Client.GetByteArrayAsync(output.GetProperty("url").GetString());
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal("image/png", output.GetProperty("contentType").GetString());
        using var preview = await cluster.Router.CreateClient().GetAsync($"/v1/runs/{id}/preview");
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
    }

    [Fact]
    public async Task Runs_200OverFourWorkers_AllSucceedSpreadOutAndRunOnce()
    {
        await using var cluster = await SimulatedCluster.StartAsync(4);
        var ids = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            ids.Add(await cluster.SubmitAsync(steps: 1, seed: i));
        }

        await Wait.UntilAsync(async () => (await cluster.AllRunsAsync()).All(r => r.Status.IsTerminal()), TimeSpan.FromSeconds(120), "200 runs to finish");
        var runs = await cluster.AllRunsAsync();

        Assert.Equal(200, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.Status));
        Assert.All(runs, r => Assert.Equal(1, r.Attempts));
        var perWorker = runs.GroupBy(r => r.Worker).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(4, perWorker.Count);
        Assert.All(perWorker.Values, count => Assert.InRange(count, 20, 120));
        Assert.Equal(200, cluster.Workers.Sum(w => w.PromptsExecuted));
    }

    [Fact]
    public async Task Cancel_InEachState_EndsCancelledAndWorkerStaysUsable()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50), new Dictionary<string, string?>
        {
            ["Router:MaxQueuePerWorker"] = "1",
        });
        var running = await cluster.SubmitAsync(steps: 400, seed: 1);
        await cluster.WaitForStatusAsync(running, "running");
        var onWorkerQueue = await cluster.SubmitAsync(steps: 400, seed: 2);
        await cluster.WaitForStatusAsync(onWorkerQueue, "dispatching");
        var inRouterQueue = await cluster.SubmitAsync(steps: 400, seed: 3);
        Assert.Equal("queued", (await cluster.GetRunAsync(inRouterQueue)).GetProperty("status").GetString());

        using (var cancel = await cluster.Client.DeleteAsync($"/v1/runs/{inRouterQueue}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }

        using (var cancel = await cluster.Client.DeleteAsync($"/v1/runs/{onWorkerQueue}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var removed = await cluster.WaitForStatusAsync(onWorkerQueue, "cancelled");
        using (var cancel = await cluster.Client.DeleteAsync($"/v1/runs/{running}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var interrupted = await cluster.WaitForStatusAsync(running, "cancelled");

        Assert.Equal("cancelled", (await cluster.GetRunAsync(inRouterQueue)).GetProperty("status").GetString());
        Assert.Contains("queue", removed.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("interrupted", interrupted.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, cluster.Workers[0].PromptsExecuted);

        cluster.Workers[0].Options.StepDelay = TimeSpan.Zero;
        var after = await cluster.SubmitAsync(steps: 2, seed: 4);
        await cluster.WaitForStatusAsync(after, "succeeded");
    }

    [Fact]
    public async Task WorkerCrashedMidRun_RunFinishesOnAnotherWorker()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40));
        var id = await cluster.SubmitAsync(steps: 100);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var first = cluster.Workers.Single(w => w.BaseAddress.ToString() == running.GetProperty("worker").GetString());
        var other = cluster.Workers.Single(w => w != first);
        other.Options.StepDelay = TimeSpan.Zero;

        first.Crash();
        var done = await cluster.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(other.BaseAddress.ToString(), done.GetProperty("worker").GetString());
        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        // The run can finish elsewhere before the prober has failed the dead worker often enough to call it Offline.
        JsonElement dead = default;
        await Wait.UntilAsync(
            async () =>
            {
                var nodes = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
                dead = nodes.EnumerateArray().Single(n => n.GetProperty("address").GetString() == first.BaseAddress.ToString());
                return dead.GetProperty("phase").GetString() == "Offline";
            },
            TimeSpan.FromSeconds(30),
            "the crashed worker to be Offline");
        Assert.False(dead.GetProperty("eligible").GetBoolean());
    }

    [Fact]
    public async Task WorkerHungMidRun_MarkedPassiveUnhealthyAndRunFinishesElsewhere()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:NoProgressTimeout"] = "00:00:01",
            ["Router:PassiveHealthReactivation"] = "00:10:00",
        });
        var id = await cluster.SubmitAsync(steps: 100);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var hung = cluster.Workers.Single(w => w.BaseAddress.ToString() == running.GetProperty("worker").GetString());
        var other = cluster.Workers.Single(w => w != hung);
        other.Options.StepDelay = TimeSpan.Zero;

        hung.Hang();
        var done = await cluster.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(other.BaseAddress.ToString(), done.GetProperty("worker").GetString());
        var nodes = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        var node = nodes.EnumerateArray().Single(n => n.GetProperty("address").GetString() == hung.BaseAddress.ToString());
        Assert.Equal("Unhealthy", node.GetProperty("passiveHealth").GetString());
        Assert.Equal("Healthy", node.GetProperty("activeHealth").GetString());
        Assert.Contains("no progress", node.GetProperty("lastError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nodes_WorkerBusyWithAnotherClientsPrompts_ShowsItsQueueAndBusyThenIdle()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(20));
        await cluster.WaitForHealthyWorkersAsync(1);
        var worker = cluster.Workers[0];
        using var direct = new HttpClient { BaseAddress = worker.BaseAddress };

        // Someone else's two prompts straight to the worker (e.g. a person in the ComfyUI editor): not ours, but they occupy it.
        for (var seed = 1; seed <= 2; seed++)
        {
            using var posted = await direct.PostAsJsonAsync("/prompt", new JsonObject { ["prompt"] = Graphs.Sd15(steps: 50, seed: seed), ["client_id"] = "someone-else" });
            posted.EnsureSuccessStatusCode();
        }

        JsonElement node = default;
        await Wait.UntilAsync(async () =>
        {
            node = (await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes")).EnumerateArray().Single();
            return node.GetProperty("queueRemaining").ValueKind == JsonValueKind.Number && node.GetProperty("queueRemaining").GetInt32() >= 1;
        }, TimeSpan.FromSeconds(30), "the worker's queue in /v1/nodes");
        Assert.Equal("Busy", node.GetProperty("phase").GetString());
        Assert.Equal(0, node.GetProperty("assigned").GetInt32());

        await Wait.UntilAsync(async () =>
        {
            node = (await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes")).EnumerateArray().Single();
            return node.GetProperty("queueRemaining").ValueKind == JsonValueKind.Number && node.GetProperty("queueRemaining").GetInt32() == 0;
        }, TimeSpan.FromSeconds(30), "the worker's queue to drain");
        Assert.Equal("Idle", node.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task WorkerHungWithRunsQueuedBehind_AllMoveElsewhereAndWorkerStaysOutUntilItRecovers()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:MaxQueuePerWorker"] = "1",
            ["Router:NoProgressTimeout"] = "00:00:01",
            // Short on purpose: the timer alone must not bring a worker that is still stuck back into rotation.
            ["Router:PassiveHealthReactivation"] = "00:00:00.200",
        });
        await cluster.WaitForHealthyWorkersAsync(2);

        // Each worker: one running, one queued behind it; long enough that none ends before the hang
        // however slow the machine (the other worker is sped up right after). Two runs posted to one
        // worker together may start in either order, so the worker to hang is picked by what runs.
        var first = new List<string>();
        for (var seed = 1; seed <= 4; seed++)
        {
            first.Add(await cluster.SubmitAsync(steps: 1000, seed: seed));
        }

        JsonElement[] placed = [];
        await Wait.UntilAsync(async () =>
        {
            placed = await Task.WhenAll(first.Select(cluster.GetRunAsync));
            return placed.All(r => r.GetProperty("worker").GetString() is not null) && placed.Any(r => r.GetProperty("status").GetString() == "running");
        }, TimeSpan.FromSeconds(30), "all four runs on workers, one running");
        var hungAddress = placed.First(r => r.GetProperty("status").GetString() == "running").GetProperty("worker").GetString();
        var hung = cluster.Workers.Single(w => w.BaseAddress.ToString() == hungAddress);
        var other = cluster.Workers.Single(w => w != hung);
        Assert.Equal(2, placed.Count(r => r.GetProperty("worker").GetString() == hungAddress));
        hung.Hang();
        other.Options.StepDelay = TimeSpan.Zero;

        // The stalled run and the one queued behind it both finish on the other worker.
        foreach (var id in first)
        {
            var done = await cluster.WaitForStatusAsync(id, "succeeded", TimeSpan.FromSeconds(60));
            Assert.Equal(other.BaseAddress.ToString(), done.GetProperty("worker").GetString());
        }

        // Still stuck: new runs keep away from it although its reactivation time has long passed.
        var second = new List<string>();
        for (var seed = 5; seed <= 8; seed++)
        {
            second.Add(await cluster.SubmitAsync(steps: 2, seed: seed));
        }

        foreach (var id in second)
        {
            var done = await cluster.WaitForStatusAsync(id, "succeeded", TimeSpan.FromSeconds(60));
            Assert.Equal(other.BaseAddress.ToString(), done.GetProperty("worker").GetString());
        }

        var node = (await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes")).EnumerateArray().Single(n => n.GetProperty("address").GetString() == hung.BaseAddress.ToString());
        Assert.Equal("Unhealthy", node.GetProperty("passiveHealth").GetString());

        // Recovered (the stuck prompt is interrupted, its queue drains): it takes runs again.
        hung.Revive();
        await Wait.UntilAsync(async () =>
        {
            var nodes = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
            return nodes.EnumerateArray().Single(n => n.GetProperty("address").GetString() == hung.BaseAddress.ToString()).GetProperty("eligible").GetBoolean();
        }, TimeSpan.FromSeconds(30), "the revived worker back in rotation");
        other.Options.StepDelay = TimeSpan.FromMilliseconds(200);
        var third = new List<string>();
        for (var seed = 9; seed <= 12; seed++)
        {
            third.Add(await cluster.SubmitAsync(steps: 2, seed: seed));
        }

        var workers = new List<string>();
        foreach (var id in third)
        {
            workers.Add((await cluster.WaitForStatusAsync(id, "succeeded", TimeSpan.FromSeconds(60))).GetProperty("worker").GetString()!);
        }

        Assert.Contains(hung.BaseAddress.ToString(), workers);
    }

    [Fact]
    public async Task ExecutionError_FailsAtOnceWithNodeDetails()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.FailAtNode = "3");
        var id = await cluster.SubmitAsync();

        var run = await cluster.WaitForStatusAsync(id, "failed");

        var error = run.GetProperty("error");
        Assert.Equal("execution_error", error.GetProperty("code").GetString());
        Assert.Equal("3", error.GetProperty("nodeId").GetString());
        Assert.Equal("KSampler", error.GetProperty("nodeType").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(1, run.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task WorkerRejectsGraph_FailsWithWorkersReason()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        var graph = Graphs.Sd15();
        graph["3"]!["inputs"]!["sampler_name"] = "no_such_sampler";
        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var run = await cluster.WaitForStatusAsync(id, "failed");

        var error = run.GetProperty("error");
        Assert.Equal("rejected", error.GetProperty("code").GetString());
        Assert.Contains("no_such_sampler", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("3", error.GetProperty("nodeId").GetString());
    }

    [Fact]
    public async Task RunTimeout_InterruptsAndFailsWithTimeout()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50), new Dictionary<string, string?>
        {
            ["Router:RunTimeout"] = "00:00:01",
        });
        var id = await cluster.SubmitAsync(steps: 400);

        var run = await cluster.WaitForStatusAsync(id, "failed");

        Assert.Equal("timeout", run.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task RouterRestart_WithQueuedAndRunningRuns_AllFinishAndNoneRunsTwice()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(30));
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await cluster.SubmitAsync(steps: 10, seed: i));
        }

        await cluster.WaitForStatusAsync(ids[0], "running");
        await cluster.RestartRouterAsync();

        await Wait.UntilAsync(async () => (await cluster.AllRunsAsync()).All(r => r.Status.IsTerminal()), TimeSpan.FromSeconds(90), "every run to finish after the restart");
        var runs = await cluster.AllRunsAsync();

        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.Status));
        Assert.Equal(8, cluster.Workers.Sum(w => w.PromptsExecuted));
    }

    private static async Task<List<SseMessage>> ReadAllEventsAsync(SimulatedCluster cluster, string id, string lastEventId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events");
        request.Headers.Add("Last-Event-ID", lastEventId);
        using var response = await cluster.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var sse = new SseClient(await response.Content.ReadAsStreamAsync(timeout.Token));
        return await sse.ReadToEndAsync(timeout.Token);
    }
}
