using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>Paths of a run's life that are rare in practice: cancels a worker ignores, attempts running out, workers leaving, restarts at awkward moments.</summary>
public sealed class LifecycleEdgeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Cancel_WorkerIgnoresTheInterrupt_FailsWithTimeoutAfterInterruptTimeout()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50), new Dictionary<string, string?>
        {
            ["Router:InterruptTimeout"] = "00:00:01",
        });
        var id = await cluster.SubmitAsync(steps: 400);
        await cluster.WaitForStatusAsync(id, "running");

        // Wedged: HTTP still answers, but the interrupt is never honoured.
        cluster.Workers[0].Hang();
        using (var cancel = await cluster.Client.DeleteAsync($"/v1/runs/{id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var failed = await cluster.WaitForStatusAsync(id, "failed", Deadline);

        var error = failed.GetProperty("error");
        Assert.Equal("timeout", error.GetProperty("code").GetString());
        Assert.Contains("did not confirm the cancel", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        cluster.Workers[0].Revive();
    }

    [Fact]
    public async Task Cancel_RunningOnOneOfTwoWorkers_InterruptsOnlyThatPromptAndTheOtherRunSucceeds()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40));
        var cancelled = await cluster.SubmitAsync(steps: 200, seed: 1);
        var kept = await cluster.SubmitAsync(steps: 400, seed: 2);
        var cancelledRun = await cluster.WaitForStatusAsync(cancelled, "running");
        var keptRun = await cluster.WaitForStatusAsync(kept, "running");
        var cancelledWorker = cluster.Workers.Single(w => w.BaseAddress.ToString() == cancelledRun.GetProperty("worker").GetString());
        var keptWorker = cluster.Workers.Single(w => w.BaseAddress.ToString() == keptRun.GetProperty("worker").GetString());
        Assert.NotSame(cancelledWorker, keptWorker);

        using (var cancel = await cluster.Client.DeleteAsync($"/v1/runs/{cancelled}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        await cluster.WaitForStatusAsync(cancelled, "cancelled", Deadline);
        Assert.Equal("running", (await cluster.GetRunAsync(kept)).GetProperty("status").GetString());
        keptWorker.Options.StepDelay = TimeSpan.Zero;
        var done = await cluster.WaitForStatusAsync(kept, "succeeded", Deadline);

        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Equal(keptRun.GetProperty("promptId").GetString(), done.GetProperty("promptId").GetString());
        using var keptClient = new ComfyClient(keptWorker.BaseAddress);
        var keptHistory = await keptClient.GetHistoryAsync(keptRun.GetProperty("promptId").GetString()!);
        Assert.Equal(ComfyPromptOutcome.Success, keptHistory?.Outcome);
        using var cancelledClient = new ComfyClient(cancelledWorker.BaseAddress);
        var cancelledHistory = await cancelledClient.GetHistoryAsync(cancelledRun.GetProperty("promptId").GetString()!);
        Assert.Equal(ComfyPromptOutcome.Interrupted, cancelledHistory?.Outcome);
        Assert.Equal(1, keptWorker.PromptsExecuted);
    }

    [Fact]
    public async Task WorkerCrashedMidRun_MaxAttemptsOne_FailsWithWorkerLostInsteadOfRetrying()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:MaxAttempts"] = "1",
        });
        var id = await cluster.SubmitAsync(steps: 200);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var crashed = cluster.Workers.Single(w => w.BaseAddress.ToString() == running.GetProperty("worker").GetString());
        var other = cluster.Workers.Single(w => w != crashed);

        crashed.Crash();
        var failed = await cluster.WaitForStatusAsync(id, "failed", Deadline);

        var error = failed.GetProperty("error");
        Assert.Equal("worker_lost", error.GetProperty("code").GetString());
        Assert.Contains("Router:MaxAttempts", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, failed.GetProperty("attempts").GetInt32());
        Assert.Equal(running.GetProperty("promptId").GetString(), failed.GetProperty("promptId").GetString());
        Assert.Equal(0, other.PromptsExecuted);
    }

    [Fact]
    public async Task WorkerRemovedFromServersFileMidRun_RunRequeuedAndSucceedsOnTheRemainingWorker()
    {
        var directory = Directory.CreateTempSubdirectory("router-servers-").FullName;
        await using var first = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(40) });
        await using var second = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(40) });
        var file = Path.Combine(directory, "servers.txt");
        await File.WriteAllTextAsync(file, $"{first.BaseAddress}\n{second.BaseAddress}\n");
        await using var router = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:ServersFile"] = file,
            ["Router:WorkerLostGrace"] = "00:00:01",
        });
        using var client = router.CreateAuthorizedClient();
        await Wait.UntilAsync(async () => (await client.GetFromJsonAsync<JsonElement>("/v1/nodes")).EnumerateArray().Count(n => n.GetProperty("eligible").GetBoolean()) == 2, Deadline, "two eligible workers");

        using var response = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(steps: 200)));

        // A 503 model-unavailable has been seen here once with both workers eligible: say everything the router said.
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\nnodes: {await client.GetStringAsync("/v1/nodes")}");
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        JsonElement run = default;
        await Wait.UntilAsync(async () => (run = await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("status").GetString() == "running", Deadline, "the run to start");
        var removed = run.GetProperty("worker").GetString() == first.BaseAddress.ToString() ? first : second;
        var remaining = removed == first ? second : first;
        remaining.Options.StepDelay = TimeSpan.Zero;

        await File.WriteAllTextAsync(file, $"{remaining.BaseAddress}\n");
        await Wait.UntilAsync(async () => (run = await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled", Deadline, "the run to finish");

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(remaining.BaseAddress.ToString(), run.GetProperty("worker").GetString());
        Assert.Equal(2, run.GetProperty("attempts").GetInt32());
        Assert.Equal(1, remaining.PromptsExecuted);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task RouterRestart_RunFinishesWhileRouterIsDown_SucceedsWithItsOutputsAndRunsOnce()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(40));
        var worker = cluster.Workers[0];
        var id = await cluster.SubmitAsync(steps: 30);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var promptId = running.GetProperty("promptId").GetString()!;

        // Held until the router is gone, then finished before it comes back.
        worker.Hang();
        await cluster.RestartRouterAsync(() =>
        {
            worker.Revive();
            WaitForHistoryAsync(worker, promptId).GetAwaiter().GetResult();
        });
        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);

        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Equal(promptId, done.GetProperty("promptId").GetString());
        Assert.Equal(1, worker.PromptsExecuted);
        var output = Assert.Single(done.GetProperty("outputs").EnumerateArray());
        var bytes = await cluster.Client.GetByteArrayAsync(output.GetProperty("url").GetString());
        var onWorker = Assert.Single(Directory.EnumerateFiles(worker.OutputDirectory, "*", SearchOption.AllDirectories), f => f.Contains(id, StringComparison.Ordinal));
        Assert.Equal(await File.ReadAllBytesAsync(onWorker), bytes);
    }

    [Fact]
    public async Task RouterRestart_WorkerCrashedAndRevivedWhileRouterIsDown_RunRequeuedAndSucceedsOnSecondAttempt()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(40));
        var worker = cluster.Workers[0];
        var id = await cluster.SubmitAsync(steps: 400);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var promptId = running.GetProperty("promptId").GetString()!;

        worker.Hang();
        await cluster.RestartRouterAsync(() =>
        {
            // A fresh process: the prompt is in neither its queue nor its history.
            worker.Crash();
            worker.Revive();
        });

        worker.Options.StepDelay = TimeSpan.Zero;
        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);

        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        Assert.NotEqual(promptId, done.GetProperty("promptId").GetString());
        Assert.Equal(1, worker.PromptsExecuted);
        var output = Assert.Single(done.GetProperty("outputs").EnumerateArray());
        var bytes = await cluster.Client.GetByteArrayAsync(output.GetProperty("url").GetString());
        var secondAttempt = Assert.Single(Directory.EnumerateFiles(worker.OutputDirectory, "*", SearchOption.AllDirectories), f => f.Contains($"{id}-2", StringComparison.Ordinal));
        Assert.Equal(await File.ReadAllBytesAsync(secondAttempt), bytes);
    }

    [Fact]
    public async Task RouterRestart_CancelRequestedAndInterruptLandsWhileRouterIsDown_EndsCancelled()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(40));
        var worker = cluster.Workers[0];
        var id = await cluster.SubmitAsync(steps: 200);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var promptId = running.GetProperty("promptId").GetString()!;

        // The worker is slow to honour the interrupt: the cancel is stored but the run still runs when the router stops.
        worker.Hang();
        using (var cancel = await cluster.Client.DeleteAsync($"/v1/runs/{id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        await cluster.RestartRouterAsync(() =>
        {
            using var client = new ComfyClient(worker.BaseAddress);
            client.InterruptAsync(promptId, CancellationToken.None).GetAwaiter().GetResult();
            worker.Revive();
            var entry = WaitForHistoryAsync(worker, promptId).GetAwaiter().GetResult();
            Assert.Equal(ComfyPromptOutcome.Interrupted, entry.Outcome);
        });
        var cancelled = await cluster.WaitForStatusAsync(id, "cancelled", Deadline);

        Assert.Contains("interrupted", cancelled.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, cancelled.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task RouterRestart_TimedOutAndInterruptLandsWhileRouterIsDown_EndsTimeout()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            // Counted from the dispatch until the prompt starts: long enough for the test to see the run
            // running on a loaded machine (the 400 steps take 16 s, so it still times out mid-prompt).
            ["Router:RunTimeout"] = "00:00:04",

            // Longer than the test: the attempt before the restart must not give up on the interrupt.
            ["Router:InterruptTimeout"] = "00:05:00",
        });
        var worker = cluster.Workers[0];
        var id = await cluster.SubmitAsync(steps: 400);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var promptId = running.GetProperty("promptId").GetString()!;

        // The worker is slow to honour the interrupt: the run has timed out but still runs when the router stops.
        worker.Hang();
        await Wait.UntilAsync(() => Task.FromResult(worker.InterruptRequests > 0), Deadline, "the run timeout's interrupt");

        await cluster.RestartRouterAsync(() =>
        {
            worker.Revive();
            var entry = WaitForHistoryAsync(worker, promptId).GetAwaiter().GetResult();
            Assert.Equal(ComfyPromptOutcome.Interrupted, entry.Outcome);
        });
        var failed = await cluster.WaitForStatusAsync(id, "failed", Deadline);

        Assert.Equal("timeout", failed.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(1, failed.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task RouterRestart_InterruptedBySomeoneElseBeforeTheDeadline_EndsInterrupted()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:RunTimeout"] = "01:00:00",
        });
        var worker = cluster.Workers[0];
        var id = await cluster.SubmitAsync(steps: 400);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var promptId = running.GetProperty("promptId").GetString()!;

        await cluster.RestartRouterAsync(() =>
        {
            using var client = new ComfyClient(worker.BaseAddress);
            client.InterruptAsync(promptId, CancellationToken.None).GetAwaiter().GetResult();
            var entry = WaitForHistoryAsync(worker, promptId).GetAwaiter().GetResult();
            Assert.Equal(ComfyPromptOutcome.Interrupted, entry.Outcome);
        });
        var failed = await cluster.WaitForStatusAsync(id, "failed", Deadline);

        Assert.Equal("interrupted", failed.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task RunTimeout_WhileStillQueuedOnTheWorker_RemovedFromItsQueueAndFailsAtOnce()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50), new Dictionary<string, string?>
        {
            ["Router:MaxQueuePerWorker"] = "1",
            ["Router:RunTimeout"] = "00:00:01",

            // Longer than the wait below: the run must not wait for an interrupt confirmation.
            ["Router:InterruptTimeout"] = "00:01:00",
        });
        var worker = cluster.Workers[0];
        using var client = new ComfyClient(worker.BaseAddress);

        // Someone else's long prompt runs on the worker, so ours waits in its queue.
        using var direct = new HttpClient { BaseAddress = worker.BaseAddress };
        using (var posted = await direct.PostAsJsonAsync("/prompt", new JsonObject { ["prompt"] = Graphs.Sd15(steps: 400, seed: 9), ["client_id"] = "someone-else" }))
        {
            posted.EnsureSuccessStatusCode();
        }

        await Wait.UntilAsync(async () => (await client.GetQueueAsync()).Running.Count == 1, Deadline, "the other prompt to run");
        var id = await cluster.SubmitAsync(steps: 2);

        var failed = await cluster.WaitForStatusAsync(id, "failed", TimeSpan.FromSeconds(20));

        var error = failed.GetProperty("error");
        Assert.Equal("timeout", error.GetProperty("code").GetString());
        Assert.Contains("still queued", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        var queue = await client.GetQueueAsync();
        Assert.False(queue.Contains(failed.GetProperty("promptId").GetString()!));
        Assert.Single(queue.Running);
        Assert.Null(await client.GetHistoryAsync(failed.GetProperty("promptId").GetString()!));
    }

    [Fact]
    public async Task Runs_IdenticalGraphTwiceOnOneWorker_EachWritesAndReturnsItsOwnFile()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        var worker = cluster.Workers[0];
        var first = await cluster.SubmitAsync(steps: 2, seed: 5);
        var firstRun = await cluster.WaitForStatusAsync(first, "succeeded", Deadline);
        var second = await cluster.SubmitAsync(steps: 2, seed: 5);
        var secondRun = await cluster.WaitForStatusAsync(second, "succeeded", Deadline);

        var files = Directory.EnumerateFiles(worker.OutputDirectory, "*", SearchOption.AllDirectories).ToList();
        var firstFile = Assert.Single(files, f => f.Contains(first, StringComparison.Ordinal));
        var secondFile = Assert.Single(files, f => f.Contains(second, StringComparison.Ordinal));
        Assert.NotEqual(firstFile, secondFile);
        var firstBytes = await DownloadSingleOutputAsync(cluster, firstRun);
        var secondBytes = await DownloadSingleOutputAsync(cluster, secondRun);
        Assert.Equal(await File.ReadAllBytesAsync(firstFile), firstBytes);
        Assert.Equal(await File.ReadAllBytesAsync(secondFile), secondBytes);
        Assert.NotEqual(firstBytes, secondBytes);
        Assert.Equal(2, worker.PromptsExecuted);
    }

    private static async Task<byte[]> DownloadSingleOutputAsync(SimulatedCluster cluster, JsonElement run)
    {
        var output = Assert.Single(run.GetProperty("outputs").EnumerateArray());
        return await cluster.Client.GetByteArrayAsync(output.GetProperty("url").GetString());
    }

    private static async Task<ComfyHistoryEntry> WaitForHistoryAsync(ComfyUiSimulator worker, string promptId)
    {
        using var client = new ComfyClient(worker.BaseAddress);
        ComfyHistoryEntry? entry = null;
        await Wait.UntilAsync(async () => (entry = await client.GetHistoryAsync(promptId)) is not null, Deadline, $"prompt {promptId} to end on the worker");
        return entry!;
    }
}
