using System.Collections.Concurrent;
using System.Text.Json;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// The run lifecycle: the only writer of run state. Every change is written to the store together
/// with its event, then published to live subscribers, so a restart or a reconnecting client sees
/// the same history. Changes are serialised by one lock; each is a short store write.
/// </summary>
internal sealed partial class RunService(
    IRunStore store,
    RunEventHub hub,
    IRunQueue queue,
    IRunInputResolver inputs,
    ActiveAttempts attempts,
    RunHistoryPruner pruner,
    IOptions<RouterOptions> options,
    IOptions<Storage.StoreOptions> storeOptions,
    TimeProvider time,
    ILogger<RunService> logger) : IRunTransitions, IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Changes of one run are serialised; different runs change concurrently (and share commits).</summary>
    private readonly SemaphoreSlim[] _runLocks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<string, RunRecord> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PreviewImage> _previews = new(StringComparer.Ordinal);
    private readonly RouterOptions _options = options.Value;
    private readonly bool _shared = storeOptions.Value.IsActiveActive;
    private readonly CancellationTokenSource _stopping = new();
    private int _submitting;
    private int _disposed;

    /// <summary>Runs stored as Queued whose URL inputs are still downloading (not in the dispatch queue yet, but pending).</summary>
    private int _resolving;

    /// <summary>
    /// The last steps of a submission: idempotency, the pending limits, store, publish, queue. The
    /// checks before (graph, readiness, inputs, webhook) are the submission service's.
    /// </summary>
    public async Task<SubmitResult> CreateAsync(NewRun command, CancellationToken cancellationToken)
    {
        if (command.IdempotencyKey is not null)
        {
            var existing = await store.GetByIdempotencyKeyAsync(command.Owner, command.IdempotencyKey, cancellationToken);
            if (existing is not null)
            {
                inputs.Release(command.Inputs);
                return new SubmitResult(SubmitOutcome.Replayed, Fresh(existing));
            }
        }

        // No lock around the insert: concurrent submissions reach the store together and are
        // committed in one transaction. Submissions under way count against the pending limit.
        var stored = false;
        var submitting = Interlocked.Increment(ref _submitting);
        try
        {
            if (queue.Count + submitting + Volatile.Read(ref _resolving) > _options.PendingLimit)
            {
                return new SubmitResult(SubmitOutcome.PendingLimitReached, null);
            }

            var now = time.GetUtcNow();
            var run = new RunRecord
            {
                Id = command.Id ?? Guid.CreateVersion7(now).ToString("D"),
                Status = RunStatus.Queued,
                Priority = command.Priority,
                IdempotencyKey = command.IdempotencyKey,
                Workflow = command.Workflow,
                Metadata = command.Metadata,
                Deployment = command.Deployment,
                Owner = command.Owner,
                QueuedAt = now,
                LastEventSequence = 1,
                Inputs = command.Inputs,
                Webhook = command.Webhook,
                ExtraData = command.ExtraData,
            };
            var queued = new RunEvent(run.Id, 1, RunEventTypes.Queued, Serialize(new { status = "queued", priority = run.Priority }), now);
            // The per-owner and per-workflow limits are decided by the store in the insert's own transaction, so
            // submissions that race (on one router, or on several replicas of one database) never pass them.
            var limits = new PendingLimits(command.OwnerMaxPending > 0 ? command.OwnerMaxPending : null, command.DeploymentMaxPending);
            var insert = await store.InsertWithinLimitsAsync(run, queued, limits, cancellationToken);
            if (insert is not { Outcome: SubmitOutcome.Created, Run: { } inserted })
            {
                return insert.Run is { } existing ? new SubmitResult(insert.Outcome, Fresh(existing)) : insert;
            }

            stored = true;
            _active[inserted.Id] = inserted;
            hub.Publish(inserted, queued);
            ReadyOrResolve(inserted, command.Graph);
            return new SubmitResult(SubmitOutcome.Created, inserted);
        }
        finally
        {
            Interlocked.Decrement(ref _submitting);
            if (!stored)
            {
                inputs.Release(command.Inputs);
            }
        }
    }

    /// <summary>Inputs first, GPU second: a run waiting for URL inputs enters the dispatch queue only once they are in the cache.</summary>
    private void ReadyOrResolve(RunRecord run, RunGraph? graph = null)
    {
        if (run.Inputs.All(i => i.FileName is not null))
        {
            queue.Enqueue(run, graph);
        }
        else
        {
            Interlocked.Increment(ref _resolving);
            _ = ResolveThenCountAsync(run.Id, run.Inputs, graph, _stopping.Token);
        }
    }

    private async Task ResolveThenCountAsync(string id, IReadOnlyList<RunInput> pending, RunGraph? graph, CancellationToken cancellationToken)
    {
        try
        {
            await ResolveInputsAsync(id, pending, graph, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _resolving);
        }
    }

    private async Task ResolveInputsAsync(string id, IReadOnlyList<RunInput> pending, RunGraph? graph, CancellationToken cancellationToken)
    {
        IReadOnlyList<RunInput> resolved;
        try
        {
            resolved = await inputs.ResolveAsync(pending, cancellationToken);
        }
        catch (InputRefusedException refused)
        {
            var node = refused.InputName.Split('.') is [_, var nodeId, ..] ? nodeId : null;
            await FailAsync(id, null, new RunFailure("input_unavailable", refused.Message, node), CancellationToken.None);
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the run stays queued with unresolved inputs and is resolved again at the next start.
            return;
        }

        var newlyPinned = resolved.Where(r => r.FileName is not null && !pending.Contains(r)).ToList();
        var run = await TransitionAsync(id, current => current.Status != RunStatus.Queued || current.CancelRequested
            ? null
            : Change.To(current with { Inputs = resolved }), CancellationToken.None);
        if (run is null)
        {
            // Cancelled (or failed) while downloading: nothing will use the files.
            inputs.Release(newlyPinned);
            return;
        }

        queue.Enqueue(run, graph);
    }

    /// <summary>
    /// The run as it is now. With one router the runs it drives are answered from memory; with active/active
    /// replicas another replica may have changed any run, so the store answers.
    /// </summary>
    public async Task<RunRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        !_shared && _active.TryGetValue(id, out var run) ? run : await store.GetAsync(id, cancellationToken);

    /// <summary>
    /// Another replica changed run <paramref name="id"/> (<see cref="Storage.Postgres.PostgresReplicaFeed"/>): what this one
    /// remembers of it is stale, so its next change starts from the store.
    /// </summary>
    public void ChangedElsewhere(string id) => _active.TryRemove(id, out _);

    /// <summary>
    /// A run another replica stored or requeued: into this replica's dispatch queue while it is queued with
    /// its inputs in the cache, out of it otherwise (claimed, cancelled or finished elsewhere).
    /// </summary>
    public void OfferQueued(RunRecord run)
    {
        if (run.Status == RunStatus.Queued && !run.CancelRequested && run.Inputs.All(i => i.FileName is not null))
        {
            queue.Enqueue(run, null);
        }
        else
        {
            queue.TryRemove(run.Id);
        }
    }

    public Task<RunPage> ListAsync(RunQuery query, int limit, long? before, CancellationToken cancellationToken) =>
        store.ListAsync(query, limit, before, cancellationToken);

    /// <summary>Runs not yet finished, oldest first.</summary>
    public Task<IReadOnlyList<RunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken) =>
        store.ListUnfinishedAsync(cancellationToken);

    public Task<IReadOnlyList<RunEvent>> GetEventsAsync(string id, long after, CancellationToken cancellationToken) =>
        store.GetEventsAsync(id, after, cancellationToken);

    /// <summary>
    /// Deletes <paramref name="owner"/>'s finished runs (those in <paramref name="ids"/>, or all when null) and
    /// then their stored outputs: with the run gone nothing could name them any more. Unfinished runs are untouched.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteFinishedAsync(string? owner, IReadOnlyCollection<string>? ids, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteFinishedAsync(owner, ids, cancellationToken);
        pruner.DeleteOutputs(deleted);
        return deleted;
    }

    public PreviewImage? GetPreview(string id) => _previews.TryGetValue(id, out var preview) ? preview : null;

    public Task<bool> IsStoreReachableAsync(CancellationToken cancellationToken) => store.PingAsync(cancellationToken);

    public async Task<CancelResult> CancelAsync(string id, string reason, CancellationToken cancellationToken)
    {
        var outcome = CancelOutcome.NotFound;
        var run = await TransitionAsync(id, current =>
        {
            if (current.Status.IsTerminal())
            {
                outcome = CancelOutcome.AlreadyFinished;
                return null;
            }

            if (current.Status == RunStatus.Queued)
            {
                queue.TryRemove(id);
                outcome = CancelOutcome.Cancelled;
                return Change.To(current with { Status = RunStatus.Cancelled, Reason = reason, FinishedAt = time.GetUtcNow() }, RunEventTypes.Cancelled, new { reason });
            }

            outcome = CancelOutcome.Requested;
            return current.CancelRequested ? null : Change.To(current with { CancelRequested = true, Reason = reason });
        }, cancellationToken);

        if (outcome == CancelOutcome.Requested)
        {
            attempts.RequestCancel(id);
        }

        return new CancelResult(outcome, run ?? await GetAsync(id, cancellationToken));
    }

    /// <summary>
    /// Queued → Dispatching on <paramref name="worker"/>, to be posted as <paramref name="promptId"/> under
    /// <paramref name="clientId"/> (the worker session's id now); null when the run is no longer queued (cancelled meanwhile).
    /// </summary>
    public Task<RunRecord?> BeginDispatchAsync(string id, string worker, string promptId, string? clientId, CancellationToken cancellationToken) =>
        TransitionAsync(id, current => current.Status != RunStatus.Queued || current.CancelRequested
            ? null
            : Change.To(
                current with { Status = RunStatus.Dispatching, Worker = worker, PromptId = promptId, ClientId = clientId, Attempts = current.Attempts + 1, DispatchedAt = time.GetUtcNow() },
                RunEventTypes.Dispatching,
                new { worker, promptId, attempt = current.Attempts + 1 }), cancellationToken);

    /// <summary>The session reconnected between dispatch and POST: the prompt goes out under another client id.</summary>
    public Task<RunRecord?> SetClientIdAsync(string id, string promptId, string clientId, CancellationToken cancellationToken) =>
        TransitionAsync(id, current => current.Status.IsTerminal() || current.PromptId != promptId || current.ClientId == clientId
            ? null
            : Change.To(current with { ClientId = clientId }), cancellationToken);

    public Task<RunRecord?> MarkRunningAsync(string id, string promptId, CancellationToken cancellationToken) =>
        TransitionAsync(id, current => current.Status != RunStatus.Dispatching || current.PromptId != promptId
            ? null
            : Change.To(
                current with { Status = RunStatus.Running, StartedAt = time.GetUtcNow() },
                RunEventTypes.Started,
                new { worker = current.Worker, promptId, attempt = current.Attempts }), cancellationToken);

    public Task<RunRecord?> ProgressAsync(string id, string? node, double value, double max, double fraction, CancellationToken cancellationToken) =>
        TransitionAsync(id, current => current.Status.IsTerminal()
            ? null
            : Change.To(current, RunEventTypes.Progress, new { node, value, max, fraction = Math.Round(fraction, 4) }), cancellationToken);

    public async Task PreviewAsync(string id, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        _previews[id] = new PreviewImage(bytes, contentType, now);
        await TransitionAsync(id, current => current.Status.IsTerminal()
            ? null
            : Change.To(current, RunEventTypes.Preview, new { url = $"/v1/runs/{id}/preview", contentType, at = now }), cancellationToken);
    }

    public Task<RunRecord?> SucceedAsync(string id, string promptId, IReadOnlyList<RunOutput> produced, CancellationToken cancellationToken) =>
        FinishAsync(id, promptId, current => Change.To(
            current with { Status = RunStatus.Succeeded, Outputs = produced, FinishedAt = time.GetUtcNow(), Reason = null },
            RunEventTypes.Succeeded,
            new { outputs = produced.Select(o => new { o.Name, o.NodeId, o.ContentType, o.Size, url = $"/v1/runs/{id}/outputs/{o.Name}" }) }), cancellationToken);

    public Task<RunRecord?> FailAsync(string id, string? promptId, RunFailure failure, CancellationToken cancellationToken) =>
        FinishAsync(id, promptId, current => Change.To(
            current with { Status = RunStatus.Failed, Failure = failure, Reason = failure.Message, FinishedAt = time.GetUtcNow() },
            RunEventTypes.Failed,
            new { failure.Code, failure.Message, failure.NodeId, failure.NodeType, failure.ExceptionType }), cancellationToken);

    public Task<RunRecord?> MarkCancelledAsync(string id, string? promptId, string reason, CancellationToken cancellationToken) =>
        FinishAsync(id, promptId, current => Change.To(
            current with { Status = RunStatus.Cancelled, Reason = reason, FinishedAt = time.GetUtcNow() },
            RunEventTypes.Cancelled,
            new { reason }), cancellationToken);

    /// <summary>Back to our queue after a lost worker; the caller has checked the attempt budget.</summary>
    public async Task<RunRecord?> RequeueAsync(string id, string promptId, string reason, CancellationToken cancellationToken)
    {
        var run = await TransitionAsync(id, current => current.Status.IsTerminal() || current.PromptId != promptId
            ? null
            : Change.To(
                current with { Status = RunStatus.Queued, Worker = null, PromptId = null, ClientId = null, Reason = reason, StartedAt = null, DispatchedAt = null },
                RunEventTypes.Requeued,
                new { reason, attempt = current.Attempts }), cancellationToken);
        if (run is not null)
        {
            queue.Enqueue(run, null);
        }

        return run;
    }

    /// <summary>Loads unfinished runs after a restart: queued ones go back in the queue; the others are returned for reconciliation.</summary>
    public async Task<IReadOnlyList<RunRecord>> RecoverAsync(CancellationToken cancellationToken)
    {
        var onWorkers = new List<RunRecord>();
        var unfinished = await store.ListUnfinishedAsync(cancellationToken);
        inputs.RestorePins(unfinished.SelectMany(r => r.Inputs));
        foreach (var run in unfinished)
        {
            _active[run.Id] = run;

            // The followers of stored runs (a ComfyUI client's prompts on /ws) pick them up again.
            hub.Read(run, run.LastEventSequence);
            if (run.Status == RunStatus.Queued)
            {
                ReadyOrResolve(run);
            }
            else
            {
                onWorkers.Add(run);
            }
        }

        LogRecovered(logger, _active.Count - onWorkers.Count, onWorkers.Count);
        return onWorkers;
    }

    private RunRecord Fresh(RunRecord stored) => !_shared && _active.TryGetValue(stored.Id, out var live) ? live : stored;

    private async Task<RunRecord?> FinishAsync(string id, string? promptId, Func<RunRecord, Change> change, CancellationToken cancellationToken)
    {
        var run = await TransitionAsync(id, current => current.Status.IsTerminal() || (promptId is not null && current.PromptId != promptId) ? null : change(current), cancellationToken);
        if (run is not null)
        {
            _previews.TryRemove(id, out _);
            LogFinished(logger, id, run.Status, run.Reason);
            pruner.Request();
        }

        return run;
    }

    private async Task<RunRecord?> TransitionAsync(string id, Func<RunRecord, Change?> decide, CancellationToken cancellationToken)
    {
        RunEvent? published = null;
        RunRecord? result;
        var gate = _runLocks[(StringComparer.Ordinal.GetHashCode(id) & int.MaxValue) % _runLocks.Length];
        await gate.WaitAsync(cancellationToken);
        try
        {
            var current = _active.TryGetValue(id, out var live) ? live : await store.GetAsync(id, cancellationToken);
            while (true)
            {
                if (current is null)
                {
                    return null;
                }

                var change = decide(current);
                if (change is null)
                {
                    return null;
                }

                result = change.Run;
                published = null;
                if (change.EventType is not null)
                {
                    result = result with { LastEventSequence = current.LastEventSequence + 1 };
                    published = new RunEvent(id, result.LastEventSequence, change.EventType, Serialize(change.Data), time.GetUtcNow());
                }

                if (await store.TryUpdateAsync(result, published, current.LastEventSequence, cancellationToken))
                {
                    break;
                }

                // Another router replica changed the run since this one read it (claimed it for its worker,
                // cancelled it): decide again on the run as stored now.
                _active.TryRemove(id, out _);
                current = await store.GetAsync(id, cancellationToken);
            }

            if (result.Status.IsTerminal())
            {
                _active.TryRemove(id, out _);
            }
            else
            {
                _active[id] = result;
            }
        }
        finally
        {
            gate.Release();
        }

        if (published is not null)
        {
            hub.Publish(result, published);
        }

        if (result.Status.IsTerminal())
        {
            inputs.Release(result.Inputs);
        }

        return result;
    }

    /// <summary>Idempotent: the container disposes this service once for each interface it is registered under.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        foreach (var gate in _runLocks)
        {
            gate.Dispose();
        }
    }

    private static string Serialize(object? data) => JsonSerializer.Serialize(data, Json);

    [LoggerMessage(EventId = EventIds.RunServiceRecovered, Level = LogLevel.Information, Message = "Recovered {Queued} queued runs and {OnWorkers} runs that were on workers")]
    private static partial void LogRecovered(ILogger logger, int queued, int onWorkers);

    [LoggerMessage(EventId = EventIds.RunServiceFinished, Level = LogLevel.Information, Message = "Run {RunId} {Status} {Reason}")]
    private static partial void LogFinished(ILogger logger, string runId, RunStatus status, string? reason);

    /// <summary>A decided change: the new record and, optionally, the event that describes it.</summary>
    private sealed record Change(RunRecord Run, string? EventType, object? Data)
    {
        public static Change To(RunRecord run, string? eventType = null, object? data = null) => new(run, eventType, data);
    }
}
