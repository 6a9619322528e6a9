using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Workers;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>A run sent back to the queue because its worker died or hung must never also run on that worker.</summary>
public sealed class RequeueTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WorkerWedgedAndUnreachable_RunsFinishElsewhereAndTheOldWorkerRunsNeitherWhenItReturns()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:AbandonedPromptRetryInterval"] = "00:00:00.100",
        });
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await cluster.SubmitAsync(steps: 100, seed: 100 + i));
        }

        // Each worker holds one running prompt and one queued behind it (MaxQueuePerWorker = 1).
        var first = cluster.Workers[0];
        var onFirst = await cluster.WaitForPostedAsync(first, ids, 2, Deadline);

        // Wedged like a stuck CUDA call, then unreachable: the router gives both runs up and requeues them.
        first.Hang();
        first.Die();
        cluster.Workers[1].Options.StepDelay = TimeSpan.Zero;
        foreach (var (runId, _) in onFirst)
        {
            var done = await cluster.WaitForStatusAsync(runId, "succeeded", Deadline);
            Assert.Equal(cluster.Workers[1].BaseAddress.ToString(), done.GetProperty("worker").GetString());
            Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        }

        // Back with its queue intact: the queued prompt is deleted, the running one interrupted.
        first.Revive();
        var abandoned = cluster.Router.Services.GetRequiredService<AbandonedPrompts>();
        await Wait.UntilAsync(() => abandoned.Pending.Count == 0, Deadline, "the abandoned prompts to be gone from the old worker");

        using var client = new ComfyClient(first.BaseAddress);
        Assert.Equal(0, await SimulatedCluster.QueuedOnAsync(first));
        var outcomes = new List<ComfyPromptOutcome?>();
        foreach (var (_, promptId) in onFirst)
        {
            outcomes.Add((await client.GetHistoryAsync(promptId))?.Outcome);
        }

        Assert.True(outcomes.Contains(null), "outcomes: " + string.Join(",", outcomes));
        Assert.DoesNotContain(ComfyPromptOutcome.Success, outcomes);
        foreach (var (runId, _) in onFirst)
        {
            Assert.DoesNotContain(Directory.EnumerateFiles(first.OutputDirectory, "*", SearchOption.AllDirectories), f => f.Contains(runId, StringComparison.Ordinal));
            var run = await cluster.GetRunAsync(runId);
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
        }

        await Wait.UntilAsync(async () =>
        {
            var runs = await Task.WhenAll(ids.Select(cluster.GetRunAsync));
            return runs.All(r => r.GetProperty("status").GetString() == "succeeded");
        }, Deadline, "every run to succeed");
    }

    [Fact]
    public async Task WorkerHungMidRun_OldPromptInterruptedWhenTheWorkerRecovers()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, o => o.StepDelay = TimeSpan.FromMilliseconds(40), new Dictionary<string, string?>
        {
            ["Router:NoProgressTimeout"] = "00:00:01",
            ["Router:PassiveHealthReactivation"] = "00:10:00",
            ["Router:AbandonedPromptRetryInterval"] = "00:00:00.100",
        });
        var id = await cluster.SubmitAsync(steps: 100);
        var running = await cluster.WaitForStatusAsync(id, "running");
        var oldPrompt = running.GetProperty("promptId").GetString()!;
        var hung = cluster.Workers.Single(w => w.BaseAddress.ToString() == running.GetProperty("worker").GetString());
        cluster.Workers.Single(w => w != hung).Options.StepDelay = TimeSpan.Zero;

        hung.Hang();
        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        hung.Revive();

        Assert.NotEqual(oldPrompt, done.GetProperty("promptId").GetString());
        using var client = new ComfyClient(hung.BaseAddress);
        ComfyHistoryEntry? entry = null;
        await Wait.UntilAsync(async () => (entry = await client.GetHistoryAsync(oldPrompt)) is not null, Deadline, "the old prompt to end on the recovered worker");
        Assert.Equal(ComfyPromptOutcome.Interrupted, entry!.Outcome);
        Assert.Empty(entry.Files);
        var run = await cluster.GetRunAsync(id);
        Assert.Equal(done.GetProperty("promptId").GetString(), run.GetProperty("promptId").GetString());
        Assert.Single(run.GetProperty("outputs").EnumerateArray());
    }
}
