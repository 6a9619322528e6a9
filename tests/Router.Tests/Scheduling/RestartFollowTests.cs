using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Storage;
using ComfyOperator.Router.Storage.Sqlite;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Workers;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>What a router restart must not lose: the prompts it gave up on, and the live view of runs it follows again.</summary>
public sealed class RestartFollowTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RouterRestart_AbandonedPromptsOnUnreachableWorker_RemovedWhenItReturnsAndRunsFinishOnce()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:AbandonedPromptRetryInterval"] = "00:00:00.100",
        });
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await cluster.SubmitAsync(steps: 100, seed: 300 + i));
        }

        // The first worker holds one running prompt and one queued behind it.
        var first = cluster.Workers[0];
        var second = cluster.Workers[1];
        var onFirst = await cluster.WaitForPostedAsync(first, ids, 2, Deadline);

        // Wedged, then unreachable: both attempts are given up and the runs finish on the second worker.
        first.Hang();
        first.Die();
        second.Options.StepDelay = TimeSpan.Zero;
        foreach (var (runId, _) in onFirst)
        {
            var done = await cluster.WaitForStatusAsync(runId, "succeeded", Deadline);
            Assert.Equal(second.BaseAddress.ToString(), done.GetProperty("worker").GetString());
        }

        var before = cluster.Router.Services.GetRequiredService<AbandonedPrompts>();
        Assert.Equal(onFirst.Select(p => p.PromptId).Order(), before.Pending.Order());

        // The router restarts while the worker is still away; then the worker returns with its queue intact.
        await cluster.RestartRouterAsync();
        await cluster.WaitForHealthyWorkersAsync(1);
        first.Revive();

        var abandoned = cluster.Router.Services.GetRequiredService<AbandonedPrompts>();
        await Wait.UntilAsync(() => abandoned.Pending.Count == 0, Deadline, "the abandoned prompts to be gone from the returned worker");
        await Wait.UntilAsync(async () => await SimulatedCluster.QueuedOnAsync(first) == 0, Deadline, "the returned worker to be idle");

        using var client = new ComfyClient(first.BaseAddress);
        var outcomes = new List<ComfyPromptOutcome?>();
        foreach (var (_, promptId) in onFirst)
        {
            outcomes.Add((await client.GetHistoryAsync(promptId))?.Outcome);
        }

        Assert.True(outcomes.Contains(null), "the queued prompt is deleted, never run; outcomes: " + string.Join(",", outcomes));
        Assert.DoesNotContain(ComfyPromptOutcome.Success, outcomes);
        var filesOnFirst = Directory.EnumerateFiles(first.OutputDirectory, "*", SearchOption.AllDirectories).ToList();
        foreach (var (runId, _) in onFirst)
        {
            Assert.DoesNotContain(filesOnFirst, f => f.Contains(runId, StringComparison.Ordinal));
            var run = await cluster.GetRunAsync(runId);
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
            Assert.Equal(2, run.GetProperty("attempts").GetInt32());
        }
    }

    [Fact]
    public async Task RouterRestart_AbandonedPromptsWorkerNoLongerConfigured_DroppedForGood()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:AbandonedPromptRetryInterval"] = "00:00:00.100",
        });
        var id = await cluster.SubmitAsync(steps: 100);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var promptId = running.GetProperty("promptId").GetString()!;
        var gone = cluster.Workers.Single(w => w.BaseAddress.ToString() == running.GetProperty("worker").GetString());
        var other = cluster.Workers.Single(w => w != gone);
        other.Options.StepDelay = TimeSpan.Zero;
        gone.Hang();
        gone.Die();
        await cluster.WaitForStatusAsync(id, "succeeded", Deadline);

        // Restarted while the worker is away: its prompt is still chased.
        await cluster.RestartRouterAsync();
        Assert.Equal([promptId], cluster.Router.Services.GetRequiredService<AbandonedPrompts>().Pending);

        // Restarted without that worker in the configuration: the entry is dropped ...
        cluster.Settings["Router:Nodes:0"] = other.BaseAddress.ToString();
        await cluster.RestartRouterAsync();
        var abandoned = cluster.Router.Services.GetRequiredService<AbandonedPrompts>();
        await Wait.UntilAsync(() => abandoned.Pending.Count == 0, Deadline, "the entry of the unconfigured worker to be dropped");

        // ... for good: configured again later, the worker is not chased any more.
        cluster.Settings["Router:Nodes:0"] = string.Join(",", cluster.Workers.Select(w => w.BaseAddress.ToString()));
        await cluster.RestartRouterAsync();
        Assert.Empty(cluster.Router.Services.GetRequiredService<AbandonedPrompts>().Pending);
    }

    [Fact]
    public async Task RouterRestart_AbandonedPromptStillTheRunsCurrentAttempt_IsResumedNotRemoved()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:AbandonedPromptRetryInterval"] = "00:00:00.100",
        });
        var id = await cluster.SubmitAsync(steps: 60);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var promptId = running.GetProperty("promptId").GetString()!;
        var worker = cluster.Workers[0];

        // The router stopped between storing the abandoned prompt and requeueing its run.
        await cluster.RestartRouterAsync(() =>
        {
            using var database = new SqliteRouterDatabase(Path.Combine(cluster.DataDirectory, "router.db"));
            new SqliteAbandonedPromptStore(database).AddAsync(new AbandonedPrompt(worker.BaseAddress, promptId, id, TimeProvider.System.GetUtcNow().AddHours(1)), CancellationToken.None).GetAwaiter().GetResult();
        });

        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        Assert.Equal(promptId, done.GetProperty("promptId").GetString());
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Empty(cluster.Router.Services.GetRequiredService<AbandonedPrompts>().Pending);
    }

    [Fact]
    public async Task RouterRestart_RunMidWay_FollowedRunStreamsProgressAndPreviewsAndSucceedsOnce()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o =>
        {
            o.StepDelay = TimeSpan.FromMilliseconds(50);
            o.PreviewMethod = "auto";
        });
        var id = await cluster.SubmitAsync(steps: 80);
        await WaitForProgressAsync(cluster, id, DateTimeOffset.MinValue);

        // The worker holds still across the restart and until the restarted router listens under the
        // old client id too (its own session + the follower), so the rest of the progress comes after.
        var worker = cluster.Workers[0];
        worker.Hang();
        var restartedAt = DateTimeOffset.MinValue;
        await cluster.RestartRouterAsync(() => restartedAt = TimeProvider.System.GetUtcNow());
        await Wait.UntilAsync(() => worker.ConnectedClients == 2, Deadline, "the restarted router's session and follower socket");
        worker.Revive();

        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        var events = await EventsAsync(cluster, id);
        var after = events.Where(e => e.At > restartedAt && e.Type == RunEventTypes.Progress).ToList();
        Assert.NotEmpty(after);
        Assert.Contains(after, e => JsonDocument.Parse(e.Data).RootElement.GetProperty("value").GetDouble() >= 80);
        Assert.Contains(events, e => e.At > restartedAt && e.Type == RunEventTypes.Preview);
        Assert.Single(events, e => e.Type == RunEventTypes.Succeeded);
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Single(done.GetProperty("outputs").EnumerateArray());
        Assert.Equal(1, cluster.Workers[0].PromptsExecuted);
    }

    [Fact]
    public async Task RouterRestart_StartedPublishedButNotWritten_ResumedAsRunningAndSucceedsOnce()
    {
        var (cluster, worker, id, writesLost) = await StartedButNotWrittenAsync(steps: 40);
        await using var _ = cluster;

        await cluster.RestartRouterAsync(() => Volatile.Write(ref writesLost.Value, false));
        await Wait.UntilAsync(async () => (await cluster.GetRunAsync(id)).GetProperty("status").GetString() == "running", Deadline, "the restarted router to find the prompt running");
        await Wait.UntilAsync(() => worker.ConnectedClients == 2, Deadline, "the restarted router's session and follower socket");
        worker.Revive();

        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.String, done.GetProperty("startedAt").ValueKind);
        Assert.Single(done.GetProperty("outputs").EnumerateArray());
        Assert.Single(await EventsAsync(cluster, id), e => e.Type == RunEventTypes.Started);
        Assert.Equal(1, worker.PromptsExecuted);
    }

    [Fact]
    public async Task RouterRestart_PromptEndedWhileDown_StartNotWritten_RunHasTheWorkersStart()
    {
        // As above, but the prompt ends on the worker while no router runs: the restarted router finds it in
        // the worker's history, and the run still gets its start (the worker's) and its `started` event.
        var (cluster, worker, id, writesLost) = await StartedButNotWrittenAsync(steps: 10);
        await using var _ = cluster;

        await cluster.RestartRouterAsync(() =>
        {
            Volatile.Write(ref writesLost.Value, false);
            worker.Revive();
            Assert.True(SpinWait.SpinUntil(() => worker.PromptsExecuted == 1, Deadline), "the prompt to end on the worker while no router runs");
        });

        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        var startedAt = done.GetProperty("startedAt").GetDateTimeOffset();
        Assert.InRange(startedAt, done.GetProperty("dispatchedAt").GetDateTimeOffset(), done.GetProperty("finishedAt").GetDateTimeOffset());
        var events = (await EventsAsync(cluster, id)).ToList();
        Assert.Single(events, e => e.Type == RunEventTypes.Started);
        Assert.True(events.FindIndex(e => e.Type == RunEventTypes.Started) < events.FindIndex(e => e.Type == RunEventTypes.Succeeded));
        Assert.Equal(1, worker.PromptsExecuted);
    }

    /// <summary>
    /// A run of <paramref name="steps"/> steps on the only worker, which is then held still: from the moment the
    /// prompt was on the worker no write of the router landed, as if it were killed before the writes it had not
    /// made yet. Its clients heard "started", the store never did. Writes land again once
    /// <c>WritesLost</c> is set back to false.
    /// </summary>
    private static async Task<(SimulatedCluster Cluster, ComfyUiSimulator Worker, string Id, StrongBox<bool> WritesLost)> StartedButNotWrittenAsync(int steps)
    {
        var store = new FaultyRunStore();
        var writesLost = new StrongBox<bool>(false);
        store.Fault = method => Volatile.Read(ref writesLost.Value) && method == nameof(IRunStore.TryUpdateWithEventsAsync)
            ? new StorageException("the router was killed before this write")
            : null;
        var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50), services: store.Install);
        try
        {
            var worker = cluster.Workers[0];
            worker.Hang();
            var id = await cluster.SubmitAsync(steps: steps);
            await Wait.UntilAsync(async () => await SimulatedCluster.QueuedOnAsync(worker) == 1, Deadline, "the prompt posted to the worker");
            Volatile.Write(ref writesLost.Value, true);
            worker.Revive();

            await Wait.UntilAsync(async () => (await cluster.GetRunAsync(id)).GetProperty("status").GetString() == "running", Deadline, "the run running on the first router");
            worker.Hang();
            var stored = await cluster.Router.Services.GetRequiredService<IRunStore>().GetAsync(id, CancellationToken.None);
            Assert.Equal(RunStatus.Dispatching, stored!.Status);
            Assert.DoesNotContain(await EventsAsync(cluster, id), e => e.Type == RunEventTypes.Started);
            return (cluster, worker, id, writesLost);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task RouterRestart_FollowedRunStalls_WorkerMarkedPassiveUnhealthyAndRunFinishesElsewhere()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(50), new Dictionary<string, string?>
        {
            ["Router:NoProgressTimeout"] = "00:00:01",
            ["Router:PassiveHealthReactivation"] = "00:10:00",
            ["Router:AbandonedPromptRetryInterval"] = "00:00:00.100",
        });
        var id = await cluster.SubmitAsync(steps: 200);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var oldPrompt = running.GetProperty("promptId").GetString()!;
        var hung = cluster.Workers.Single(w => w.BaseAddress.ToString() == running.GetProperty("worker").GetString());
        var other = cluster.Workers.Single(w => w != hung);
        other.Options.StepDelay = TimeSpan.Zero;

        var restartedAt = DateTimeOffset.MinValue;
        await cluster.RestartRouterAsync(() => restartedAt = TimeProvider.System.GetUtcNow());

        // The restarted router hears the run again, then the worker wedges mid-run.
        await WaitForProgressAsync(cluster, id, restartedAt);
        hung.Hang();
        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);

        Assert.Equal(other.BaseAddress.ToString(), done.GetProperty("worker").GetString());
        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        var nodes = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        var node = nodes.EnumerateArray().Single(n => n.GetProperty("address").GetString() == hung.BaseAddress.ToString());
        Assert.Equal("Unhealthy", node.GetProperty("passiveHealth").GetString());
        Assert.Contains("no progress", node.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        // The stalled prompt is interrupted once the worker recovers, so the run has only one result.
        hung.Revive();
        using var client = new ComfyClient(hung.BaseAddress);
        ComfyHistoryEntry? entry = null;
        await Wait.UntilAsync(async () => (entry = await client.GetHistoryAsync(oldPrompt)) is not null, Deadline, "the stalled prompt to end on the recovered worker");
        Assert.Equal(ComfyPromptOutcome.Interrupted, entry!.Outcome);
        Assert.Empty(entry.Files);
    }

    [Fact]
    public async Task RouterRestart_FollowerOrphanedBeforeHearingTheRun_SilenceIsNotAStall()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:NoProgressTimeout"] = "00:00:01",
        });
        var worker = cluster.Workers[0];
        var id = await cluster.SubmitAsync(steps: 100);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var clientId = (await cluster.Router.Services.GetRequiredService<IRunStore>().GetAsync(id, CancellationToken.None))!.ClientId!;

        // While the router is down the worker wedges and someone else connects under the run's client id,
        // so the restarted router's listener replaces that socket (docs/comfyui-protocol.md §5.1).
        using var other = new ClientWebSocket();
        var restartedAt = DateTimeOffset.MinValue;
        await cluster.RestartRouterAsync(() =>
        {
            worker.Hang();
            other.ConnectAsync(new Uri($"ws://{worker.BaseAddress.Authority}/ws?clientId={clientId}"), CancellationToken.None).GetAwaiter().GetResult();
            restartedAt = TimeProvider.System.GetUtcNow();
        });
        await Wait.UntilAsync(() => worker.ConnectionsOpened(clientId) == 3, Deadline, "the restarted router to listen under the run's client id");

        // The replaced socket closes: the server forgets the id and the listener hears nothing more.
        other.Abort();
        await Wait.UntilAsync(() => worker.ConnectedClients == 1, Deadline, "the client id to be dropped by the worker");
        worker.Revive();

        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        Assert.Equal(running.GetProperty("promptId").GetString(), done.GetProperty("promptId").GetString());
        Assert.DoesNotContain(await EventsAsync(cluster, id), e => e.At > restartedAt && e.Type == RunEventTypes.Progress);
        var nodes = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        Assert.Equal("Healthy", nodes.EnumerateArray().Single().GetProperty("passiveHealth").GetString());
    }

    private static async Task WaitForProgressAsync(SimulatedCluster cluster, string id, DateTimeOffset after) =>
        await Wait.UntilAsync(
            async () => (await EventsAsync(cluster, id)).Any(e => e.Type == RunEventTypes.Progress && e.At > after),
            Deadline,
            $"a progress event of run {id} after {after:O}");

    private static async Task<IReadOnlyList<RunEvent>> EventsAsync(SimulatedCluster cluster, string id) =>
        await cluster.Router.Services.GetRequiredService<IRunStore>().GetEventsAsync(id, 0, CancellationToken.None);
}
