using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>
/// A worker's slot is free for the next run when its prompt ends on the worker, not when the router has stored
/// that prompt's outputs: the GPU gets its next prompt while a slow output store is still writing. What reads
/// files from the worker still holds it: a drain or a removal waits for the finishing copy.
/// </summary>
public sealed class PromptEndSlotTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PromptEnds_OutputsStillBeingStored_NextRunPostedToTheWorker()
    {
        var store = new HeldOutputStore();
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:MaxQueuePerWorker"] = "0" }, services: store.Install);
        var worker = cluster.Workers[0];
        var first = await cluster.SubmitAsync(seed: 1);
        await Wait.UntilAsync(() => store.Waiting == 1, Deadline, "the first run's output to reach the store");
        var node = await NodeAsync(cluster.Client, worker);
        Assert.Equal(0, node.GetProperty("assigned").GetInt32());
        Assert.Equal(1, node.GetProperty("finishing").GetInt32());
        Assert.Equal(JsonValueKind.Null, node.GetProperty("currentRun").ValueKind);

        var second = await cluster.SubmitAsync(seed: 2);

        // The worker runs the second prompt while the first run's output is still held in the store.
        await Wait.UntilAsync(() => worker.PromptsExecuted == 2, Deadline, "the second prompt to run on the worker");
        Assert.Equal("running", (await cluster.GetRunAsync(first)).GetProperty("status").GetString());
        Assert.Equal(0, store.Saved);

        store.Release();
        var done = await cluster.WaitForStatusAsync(first, "succeeded", Deadline);
        Assert.Single(done.GetProperty("outputs").EnumerateArray());
        await cluster.WaitForStatusAsync(second, "succeeded", Deadline);
        await Wait.UntilAsync(async () => (await NodeAsync(cluster.Client, worker)).GetProperty("finishing").GetInt32() == 0, Deadline, "no run finishing on the worker");
    }

    [Fact]
    public async Task Delete_RunFinishingOnTheWorker_RemovedOnlyOnceItsOutputsAreStored()
    {
        var store = new HeldOutputStore();
        await using var cluster = await SimulatedCluster.StartAsync(1, services: store.Install);
        await using var extra = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions());
        var configured = await NodeAsync(cluster.Client, cluster.Workers[0]);
        using (var cordon = await cluster.Client.PatchAsJsonAsync($"/v1/nodes/{configured.GetProperty("id").GetString()}", new { cordoned = true }))
        {
            Assert.Equal(HttpStatusCode.OK, cordon.StatusCode);
        }

        string id;
        using (var added = await cluster.Client.PostAsJsonAsync("/v1/nodes", new { url = extra.BaseAddress.ToString() }))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            id = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        await Wait.UntilAsync(async () => (await NodeAsync(cluster.Client, extra)).GetProperty("eligible").GetBoolean(), Deadline, "the added worker to be eligible");
        var run = await cluster.SubmitAsync();
        await Wait.UntilAsync(() => store.Waiting == 1, Deadline, "the run's output to reach the store");
        Assert.Equal(0, await SimulatedCluster.QueuedOnAsync(extra));

        using (var delete = await cluster.Client.DeleteAsync($"/v1/nodes/{id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        // A drain check (the router's timer makes one every second) keeps it while its output is read and stored.
        await cluster.Router.Services.GetRequiredService<NodeAdministration>().FinishDrainsAsync(CancellationToken.None);
        var node = await NodeAsync(cluster.Client, extra);
        Assert.True(node.GetProperty("draining").GetBoolean());
        Assert.False(node.GetProperty("drained").GetBoolean());
        Assert.Equal(1, node.GetProperty("finishing").GetInt32());

        store.Release();
        await cluster.WaitForStatusAsync(run, "succeeded", Deadline);
        await Wait.UntilAsync(async () => (await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes")).EnumerateArray().All(n => n.GetProperty("id").GetString() != id), Deadline, "the drained worker to be removed");
    }

    [Fact]
    public async Task WorkerLostWhileOutputsAreCopied_RunFailsOutputUnavailableAndTheNextRunIsRequeued()
    {
        var store = new HeldOutputStore();
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50), new Dictionary<string, string?>
        {
            ["Router:MaxQueuePerWorker"] = "0",
            ["Router:WorkerLostGrace"] = "00:00:00.500",
        }, services: store.Install);
        var worker = cluster.Workers[0];

        // Two images: the first is held in the store, the second is still on the worker when it goes.
        var graph = Graphs.Sd15(seed: 1);
        graph["5"]!["inputs"]!["batch_size"] = 2;
        string first;
        using (var submitted = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph)))
        {
            first = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        await Wait.UntilAsync(() => store.Waiting == 1, Deadline, "the first output to reach the store");
        var second = await cluster.SubmitAsync(steps: 200, seed: 2);
        await cluster.WaitForStatusAsync(second, "running", Deadline);

        worker.Die();
        store.Release();

        var failed = await WaitForEndAsync(cluster, first);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("output_unavailable", failed.GetProperty("error").GetProperty("code").GetString());

        // The run that had the freed slot is sent back to the queue like any run of a lost worker.
        await cluster.WaitForStatusAsync(second, "queued", Deadline);
        Assert.Equal(0, (await NodeAsync(cluster.Client, worker)).GetProperty("finishing").GetInt32());

        worker.Options.StepDelay = TimeSpan.Zero;
        worker.Revive();
        var done = await cluster.WaitForStatusAsync(second, "succeeded", Deadline);
        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task RouterRestartedWhileOutputsAreCopied_BothRunsSucceedOnceWithTheirOutputs()
    {
        var store = new HeldOutputStore();
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:MaxQueuePerWorker"] = "0" }, services: store.Install);
        var worker = cluster.Workers[0];
        var first = await cluster.SubmitAsync(seed: 1);
        await Wait.UntilAsync(() => store.Waiting == 1, Deadline, "the first run's output to reach the store");
        var second = await cluster.SubmitAsync(seed: 2);
        await Wait.UntilAsync(() => worker.PromptsExecuted == 2 && store.Waiting == 2, Deadline, "the second run to end on the worker and reach the store");

        // Killed with both copies under way: the next router finds both prompts ended in the worker's history and copies again.
        await cluster.RestartRouterAsync();
        await Wait.UntilAsync(() => store.Waiting == 2, Deadline, "the restarted router to copy both runs' outputs");
        store.Release();

        foreach (var id in new[] { first, second })
        {
            var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
            Assert.Equal(1, done.GetProperty("attempts").GetInt32());
            Assert.Single(done.GetProperty("outputs").EnumerateArray());
        }

        Assert.Equal(2, worker.PromptsExecuted);
        Assert.Equal(0, (await NodeAsync(cluster.Client, worker)).GetProperty("finishing").GetInt32());
    }

    private static async Task<JsonElement> NodeAsync(HttpClient client, ComfyUiSimulator worker)
    {
        var nodes = await client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        return nodes.EnumerateArray().Single(n => n.GetProperty("address").GetString() == worker.BaseAddress.ToString());
    }

    private static async Task<JsonElement> WaitForEndAsync(SimulatedCluster cluster, string id)
    {
        JsonElement run = default;
        await Wait.UntilAsync(async () =>
        {
            run = await cluster.GetRunAsync(id);
            return run.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";
        }, Deadline, $"run {id} to end");
        return run;
    }

    /// <summary>A local output store that holds every save until <see cref="Release"/>, as a slow store (S3 over a WAN) does.</summary>
    private sealed class HeldOutputStore
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _waiting;
        private int _saved;

        public int Waiting => Volatile.Read(ref _waiting);

        public int Saved => Volatile.Read(ref _saved);

        public void Release() => _released.TrySetResult();

        public void Install(IServiceCollection services)
        {
            services.RemoveAll<IOutputStore>();
            services.AddSingleton<IOutputStore>(sp => new Store(this, new LocalDirectoryOutputStore(sp.GetRequiredService<IOptions<RouterOptions>>())));
        }

        private sealed class Store(HeldOutputStore owner, IOutputStore inner) : IOutputStore
        {
            public async Task<long> SaveAsync(string runId, string name, Stream content, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref owner._waiting);
                try
                {
                    await owner._released.Task.WaitAsync(cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref owner._waiting);
                }

                var size = await inner.SaveAsync(runId, name, content, cancellationToken);
                Interlocked.Increment(ref owner._saved);
                return size;
            }

            public Task<Stream?> OpenAsync(string runId, string name, CancellationToken cancellationToken) => inner.OpenAsync(runId, name, cancellationToken);

            public Task DeleteAsync(string runId, string name, CancellationToken cancellationToken) => inner.DeleteAsync(runId, name, cancellationToken);

            public Task DeleteRunAsync(string runId, CancellationToken cancellationToken) => inner.DeleteRunAsync(runId, cancellationToken);
        }
    }
}
