using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>
/// A submitted run that a worker can take now, with nothing queued before it, is stored already dispatching on
/// that worker in its insert (one write, both events) and posted without waiting in the queue; any other is stored
/// queued and dispatched from the queue as before.
/// </summary>
public sealed class ImmediateDispatchTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Submit_WorkerFree_StoredDispatchingWithBothEventsInOneWriteAndPostedAtOnce()
    {
        var store = new RecordingRunStore();
        await using var cluster = await SimulatedCluster.StartAsync(1, services: store.Faulty.Install);
        var worker = cluster.Workers[0];
        worker.Hang();

        var id = await cluster.SubmitAsync();
        await Wait.UntilAsync(async () => await SimulatedCluster.QueuedOnAsync(worker) == 1, Deadline, "the prompt posted to the worker");

        // One write for the run up to its prompt on the worker: the insert, as Dispatching; no claim after it.
        Assert.Equal([nameof(IRunStore.InsertWithinLimitsAsync)], store.Writes);
        var stored = await Store(cluster).GetAsync(id, CancellationToken.None);
        Assert.Equal(RunStatus.Dispatching, stored!.Status);
        Assert.Equal(worker.BaseAddress.ToString(), stored.Worker);
        Assert.NotNull(stored.PromptId);
        Assert.NotNull(stored.ClientId);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal(stored.QueuedAt, stored.DispatchedAt);
        var events = await Store(cluster).GetEventsAsync(id, 0, CancellationToken.None);
        Assert.Equal([(1L, RunEventTypes.Queued), (2L, RunEventTypes.Dispatching)], events.Select(e => (e.Sequence, e.Type)));

        worker.Revive();
        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        Assert.Equal(1, done.GetProperty("attempts").GetInt32());
        var all = await Store(cluster).GetEventsAsync(id, 0, CancellationToken.None);
        Assert.Equal([RunEventTypes.Queued, RunEventTypes.Dispatching, RunEventTypes.Started], all.Take(3).Select(e => e.Type));
        Assert.Equal(RunEventTypes.Succeeded, all[^1].Type);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.Sequence));
        Assert.Equal(1, worker.PromptsExecuted);
    }

    [Fact]
    public async Task Submit_WorkerFull_StoredQueuedThenClaimedFromTheQueueWhenTheWorkerFrees()
    {
        var store = new RecordingRunStore();
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:MaxQueuePerWorker"] = "0" }, services: store.Faulty.Install);
        var worker = cluster.Workers[0];
        worker.Hang();
        var first = await cluster.SubmitAsync(seed: 1);
        await Wait.UntilAsync(async () => await SimulatedCluster.QueuedOnAsync(worker) == 1, Deadline, "the first prompt posted to the worker");

        var second = await cluster.SubmitAsync(seed: 2);

        var stored = await Store(cluster).GetAsync(second, CancellationToken.None);
        Assert.Equal(RunStatus.Queued, stored!.Status);
        Assert.Null(stored.Worker);
        Assert.Equal([RunEventTypes.Queued], (await Store(cluster).GetEventsAsync(second, 0, CancellationToken.None)).Select(e => e.Type));
        Assert.Equal(1, await SimulatedCluster.QueuedOnAsync(worker));

        worker.Revive();
        await cluster.WaitForStatusAsync(first, "succeeded", Deadline);
        await cluster.WaitForStatusAsync(second, "succeeded", Deadline);
        var events = await Store(cluster).GetEventsAsync(second, 0, CancellationToken.None);
        Assert.Equal([(1L, RunEventTypes.Queued), (2L, RunEventTypes.Dispatching)], events.Take(2).Select(e => (e.Sequence, e.Type)));
        Assert.Equal(2, worker.PromptsExecuted);
    }

    [Fact]
    public async Task RouterRestart_StoredDispatchingBeforeThePromptWasPosted_RunsOnceOnTheNextStart()
    {
        var holding = new StrongBox<bool>(true);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var cluster = await SimulatedCluster.StartAsync(1, services: services => HoldPrompts(services, holding, held));
        var worker = cluster.Workers[0];

        var id = await cluster.SubmitAsync();
        await held.Task.WaitAsync(Deadline);

        // Stopped between the insert (the run on its worker) and POST /prompt: the worker never heard of it.
        var stored = await Store(cluster).GetAsync(id, CancellationToken.None);
        Assert.Equal(RunStatus.Dispatching, stored!.Status);
        Assert.Equal(0, await SimulatedCluster.QueuedOnAsync(worker));
        Volatile.Write(ref holding.Value, false);
        await cluster.RestartRouterAsync();

        var done = await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        Assert.Equal(1, worker.PromptsExecuted);
        var events = await Store(cluster).GetEventsAsync(id, 0, CancellationToken.None);
        Assert.Equal([RunEventTypes.Queued, RunEventTypes.Dispatching, RunEventTypes.Requeued, RunEventTypes.Dispatching], events.Where(e => e.Type is RunEventTypes.Queued or RunEventTypes.Dispatching or RunEventTypes.Requeued).Select(e => e.Type));
        Assert.Single(events, e => e.Type == RunEventTypes.Succeeded);
    }

    private static IRunStore Store(SimulatedCluster cluster) => cluster.Router.Services.GetRequiredService<IRunStore>();

    /// <summary>While <paramref name="holding"/> is set, every prompt waits before it is posted (until the router stops); <paramref name="held"/> says one does.</summary>
    private static void HoldPrompts(IServiceCollection services, StrongBox<bool> holding, TaskCompletionSource held)
    {
        var original = services.Last(d => d.ServiceType == typeof(IPromptPreparer));
        services.Remove(original);
        services.AddSingleton<IPromptPreparer>(sp => new HeldPromptPreparer((IPromptPreparer)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!), holding, held));
    }

    private sealed class HeldPromptPreparer(IPromptPreparer inner, StrongBox<bool> holding, TaskCompletionSource held) : IPromptPreparer
    {
        public async Task<JsonObject> PrepareAsync(RunRecord run, RunGraph graph, WorkerState worker, ComfyClient client, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref holding.Value))
            {
                held.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await inner.PrepareAsync(run, graph, worker, client, cancellationToken);
        }
    }

    /// <summary>The run store's writes, by method name, in order.</summary>
    private sealed class RecordingRunStore
    {
        private static readonly HashSet<string> WriteMethods = [nameof(IRunStore.InsertWithinLimitsAsync), nameof(IRunStore.TryUpdateWithEventsAsync), nameof(IRunStore.UpdateAsync)];
        private readonly ConcurrentQueue<string> _writes = new();

        public RecordingRunStore() => Faulty.Fault = method =>
        {
            if (WriteMethods.Contains(method))
            {
                _writes.Enqueue(method);
            }

            return null;
        };

        public FaultyRunStore Faulty { get; } = new();

        public IReadOnlyList<string> Writes => [.. _writes];
    }
}
