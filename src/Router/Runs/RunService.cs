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
/// the same history. Changes of one run are serialised by a lock; each is a short store write.
/// <para>
/// Progress and previews (dozens per run) and the <c>started</c> transition are published at once but written
/// later, with the run's next write, or within about <see cref="FlushInterval"/> when the run writes nothing else
/// (the worker's messages that follow its start wait for no store write): each takes its
/// sequence number when published, so a client resuming from it is replayed what follows, and the
/// history a restart or a later reader sees is the same. At most <see cref="MaxUnwrittenEvents"/> wait per run;
/// a router that did not publish a run's events (after a restart, or another replica) numbers the run's next
/// event past the ones that may have been lost with the router that did.
/// </para>
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
    /// <summary>Progress, preview and started events of a run published and not yet written, at most.</summary>
    internal const int MaxUnwrittenEvents = 64;

    /// <summary>Progress and previews wait at most about twice this before they are written when the run writes nothing else.</summary>
    internal static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Changes of one run are serialised; different runs change concurrently (and share commits).</summary>
    private readonly SemaphoreSlim[] _runLocks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<string, RunRecord> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PreviewImage> _previews = new(StringComparer.Ordinal);

    /// <summary>The runs this router has on a worker, with their events not yet written.</summary>
    private readonly ConcurrentDictionary<string, LiveRunEvents> _live = new(StringComparer.Ordinal);
    private readonly RouterOptions _options = options.Value;
    private readonly bool _shared = storeOptions.Value.IsActiveActive;
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _flushTimer;
    private int _flushing;
    private int _submitting;
    private int _disposed;

    /// <summary>Runs stored as Queued whose URL inputs are still downloading (not in the dispatch queue yet, but pending).</summary>
    private int _resolving;

    /// <summary>
    /// The last steps of a submission: idempotency, the pending limits, store, publish, queue. The
    /// checks before (graph, readiness, inputs, webhook) are the submission service's. A ready run (its
    /// inputs in the cache) that <paramref name="dispatcher"/> places on a worker now is stored already
    /// dispatching there, with its <c>queued</c> and <c>dispatching</c> events, in the insert's one transaction,
    /// and its attempt starts; any other is stored queued and queued.
    /// </summary>
    public async Task<SubmitResult> CreateAsync(NewRun command, IImmediateDispatcher? dispatcher, CancellationToken cancellationToken)
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
        IImmediateDispatch? placed = null;
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
            placed = IsReady(run) ? dispatcher?.TryPlace(run, command.Graph) : null;
            RunEvent? dispatching = null;
            var toStore = run;
            if (placed is not null)
            {
                (toStore, dispatching) = Dispatching(run, placed.Worker, placed.PromptId, placed.ClientId);
            }

            // The per-owner and per-workflow limits are decided by the store in the insert's own transaction, so
            // submissions that race (on one router, or on several replicas of one database) never pass them.
            var limits = new PendingLimits(command.OwnerMaxPending > 0 ? command.OwnerMaxPending : null, command.DeploymentMaxPending);
            // A run placed on a worker is inserted whatever happens to the request meanwhile: stored and not
            // started, it would hold its worker's prompt slot in the store with no attempt to post it.
            var insert = await store.InsertWithinLimitsAsync(toStore, dispatching is null ? [queued] : [queued, dispatching], limits, dispatching is null ? cancellationToken : CancellationToken.None);
            if (insert is not { Outcome: SubmitOutcome.Created, Run: { } inserted })
            {
                return insert.Run is { } existing ? new SubmitResult(insert.Outcome, Fresh(existing)) : insert;
            }

            stored = true;
            _active[inserted.Id] = inserted;
            if (dispatching is null)
            {
                hub.Publish(inserted, queued);
                ReadyOrResolve(inserted, command.Graph);
                return new SubmitResult(SubmitOutcome.Created, inserted);
            }

            _live[inserted.Id] = new LiveRunEvents(dispatching.Sequence);
            hub.Publish(inserted with { Status = RunStatus.Queued, LastEventSequence = queued.Sequence, Worker = null, PromptId = null, ClientId = null, Attempts = 0, DispatchedAt = null }, queued);
            hub.Publish(inserted, dispatching);
            placed!.Start(inserted);
            return new SubmitResult(SubmitOutcome.Created, inserted);
        }
        finally
        {
            Interlocked.Decrement(ref _submitting);
            if (!stored)
            {
                placed?.Abandon();
                inputs.Release(command.Inputs);
            }
        }
    }

    /// <summary>Nothing left to resolve before a worker can take the run: its inputs are files in the cache.</summary>
    private static bool IsReady(RunRecord run) => run.Inputs.All(i => i.FileName is not null);

    /// <summary>Inputs first, GPU second: a run waiting for URL inputs enters the dispatch queue only once they are in the cache.</summary>
    private void ReadyOrResolve(RunRecord run, RunGraph? graph = null)
    {
        if (IsReady(run))
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
        !_shared && _active.TryGetValue(id, out var run) ? run : Overlay(await store.GetAsync(id, cancellationToken));

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

    /// <summary>The stored runs (filtered by their stored state), each shown as this router has it now.</summary>
    public async Task<RunPage> ListAsync(RunQuery query, int limit, long? before, CancellationToken cancellationToken)
    {
        var page = await store.ListAsync(query, limit, before, cancellationToken);
        return _live.IsEmpty ? page : page with { Runs = [.. page.Runs.Select(Overlay).OfType<RunRecord>()] };
    }

    /// <summary>Runs not yet finished, oldest first, each shown as this router has it now.</summary>
    public async Task<IReadOnlyList<RunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken)
    {
        var unfinished = await store.ListUnfinishedAsync(cancellationToken);
        return _live.IsEmpty ? unfinished : [.. unfinished.Select(Overlay).OfType<RunRecord>()];
    }

    /// <summary>The run's events after <paramref name="after"/>: those stored, then those published here and not written yet.</summary>
    public async Task<IReadOnlyList<RunEvent>> GetEventsAsync(string id, long after, CancellationToken cancellationToken)
    {
        // The pending ones first: any written meanwhile are then in the store's answer, which comes after.
        RunEvent[] pending = [];
        if (_live.TryGetValue(id, out var live) && live.PendingSince is not null)
        {
            var gate = Gate(id);
            await gate.WaitAsync(cancellationToken);
            try
            {
                pending = [.. live.Pending];
            }
            finally
            {
                gate.Release();
            }
        }

        var stored = await store.GetEventsAsync(id, after, cancellationToken);
        if (pending.Length == 0)
        {
            return stored;
        }

        var through = stored.Count > 0 ? stored[^1].Sequence : after;
        return [.. stored, .. pending.Where(e => e.Sequence > through)];
    }

    /// <summary>The sequence number of <paramref name="run"/>'s last event published here (written or not), or its last stored one.</summary>
    public long LastEventSequence(RunRecord run) =>
        _live.TryGetValue(run.Id, out var live) ? Math.Max(live.Published, run.LastEventSequence) : run.LastEventSequence;

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
                DispatchedTo(current, worker, promptId, clientId, time.GetUtcNow()),
                RunEventTypes.Dispatching,
                DispatchingData(worker, promptId, current.Attempts + 1)), cancellationToken);

    /// <summary><paramref name="current"/> on its next attempt, on <paramref name="worker"/> as prompt <paramref name="promptId"/> from <paramref name="at"/>.</summary>
    private static RunRecord DispatchedTo(RunRecord current, string worker, string promptId, string? clientId, DateTimeOffset at) =>
        current with { Status = RunStatus.Dispatching, Worker = worker, PromptId = promptId, ClientId = clientId, Attempts = current.Attempts + 1, DispatchedAt = at };

    private static object DispatchingData(string worker, string promptId, int attempt) => new { worker, promptId, attempt };

    /// <summary>A run built at submit, placed on <paramref name="worker"/> before it is stored: its first attempt, and the <c>dispatching</c> event after <c>queued</c>.</summary>
    private static (RunRecord Run, RunEvent Event) Dispatching(RunRecord queued, string worker, string promptId, string? clientId)
    {
        var run = DispatchedTo(queued, worker, promptId, clientId, queued.QueuedAt) with { LastEventSequence = queued.LastEventSequence + 1 };
        return (run, new RunEvent(run.Id, run.LastEventSequence, RunEventTypes.Dispatching, Serialize(DispatchingData(worker, promptId, run.Attempts)), queued.QueuedAt));
    }

    /// <summary>The session reconnected between dispatch and POST: the prompt goes out under another client id.</summary>
    public Task<RunRecord?> SetClientIdAsync(string id, string promptId, string clientId, CancellationToken cancellationToken) =>
        TransitionAsync(id, current => current.Status.IsTerminal() || current.PromptId != promptId || current.ClientId == clientId
            ? null
            : Change.To(current with { ClientId = clientId }), cancellationToken);

    /// <summary>
    /// Dispatching → Running. Published now and written with the run's next write (see the class remarks) when this
    /// router numbered the run's events; written now otherwise (after a restart it is the first event it numbers).
    /// </summary>
    public Task<RunRecord?> MarkRunningAsync(string id, string promptId, DateTimeOffset? startedAt, CancellationToken cancellationToken) =>
        PublishLiveAsync(
            id,
            current => current.Status != RunStatus.Dispatching || current.PromptId != promptId
                ? null
                : Change.To(
                    current with { Status = RunStatus.Running, StartedAt = startedAt ?? time.GetUtcNow() },
                    RunEventTypes.Started,
                    new { worker = current.Worker, promptId, attempt = current.Attempts }),
            cancellationToken);

    /// <summary>Published now, written with the run's next write (see the class remarks); null when the run is not on a worker.</summary>
    public Task<RunRecord?> ProgressAsync(string id, string? node, double value, double max, double fraction, CancellationToken cancellationToken) =>
        PublishOnWorkerAsync(id, RunEventTypes.Progress, new { node, value, max, fraction = Math.Round(fraction, 4) }, cancellationToken);

    public async Task PreviewAsync(string id, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        _previews[id] = new PreviewImage(bytes, contentType, now);
        await PublishOnWorkerAsync(id, RunEventTypes.Preview, new { url = $"/v1/runs/{id}/preview", contentType, at = now }, cancellationToken);
    }

    /// <summary>Writes the events published and not yet written of every run (at shutdown); what fails stays unwritten, logged.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var (id, live) in _live)
        {
            if (live.PendingSince is null || Volatile.Read(ref _disposed) != 0)
            {
                continue;
            }

            try
            {
                await FlushAsync(id, cancellationToken);
            }
            catch (Exception ex) when (ex is Storage.StorageException or ObjectDisposedException
                || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                LogLiveEventsWriteFailed(logger, ex);
                return;
            }
        }
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
        var gate = Gate(id);
        await gate.WaitAsync(cancellationToken);
        (RunRecord? Run, RunEvent? Event) done;
        try
        {
            done = await ChangeAsync(id, await CurrentAsync(id, cancellationToken), decide, cancellationToken);
        }
        finally
        {
            gate.Release();
        }

        return Published(done);
    }

    /// <summary>A progress or preview event of a run on a worker (<see cref="PublishLiveAsync"/>).</summary>
    private Task<RunRecord?> PublishOnWorkerAsync(string id, string type, object data, CancellationToken cancellationToken) =>
        PublishLiveAsync(id, run => run.Status is RunStatus.Dispatching or RunStatus.Running ? Change.To(run, type, data) : null, cancellationToken);

    /// <summary>
    /// A change of a run on a worker that comes with an event (<see cref="RunEventTypes.IsWrittenLater"/>): numbered
    /// and published now, written later (with the run's next write) when this router numbered the run's events so far
    /// and not too many wait already; written now otherwise.
    /// </summary>
    private async Task<RunRecord?> PublishLiveAsync(string id, Func<RunRecord, Change?> decide, CancellationToken cancellationToken)
    {
        var gate = Gate(id);
        await gate.WaitAsync(cancellationToken);
        (RunRecord? Run, RunEvent? Event) done;
        try
        {
            var current = await CurrentAsync(id, cancellationToken);
            if (current is not { Status: RunStatus.Dispatching or RunStatus.Running })
            {
                return null;
            }

            if (_live.TryGetValue(id, out var live) && live.Pending.Count < MaxUnwrittenEvents)
            {
                current = live.Apply(current);
                if (decide(current) is not { EventType: { } type } change)
                {
                    return null;
                }

                var runEvent = new RunEvent(id, NextSequence(current, live), type, Serialize(change.Data), time.GetUtcNow());
                live.Add(runEvent);
                if (change.Run.Status != current.Status)
                {
                    live.Started(change.Run);
                    _active[id] = change.Run;
                }

                StartFlushing();
                done = (change.Run, runEvent);
            }
            else
            {
                done = await ChangeAsync(id, current, decide, cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }

        return Published(done);
    }

    /// <summary>Decides and writes one change of run <paramref name="id"/> (its lock held), with the events published and not yet written.</summary>
    private async Task<(RunRecord? Run, RunEvent? Event)> ChangeAsync(string id, RunRecord? current, Func<RunRecord, Change?> decide, CancellationToken cancellationToken)
    {
        while (current is not null)
        {
            // A start published here and not written yet is part of the run, whichever copy this decides on.
            if (_live.TryGetValue(id, out var live))
            {
                current = live.Apply(current);
            }

            if (decide(current) is not { } change)
            {
                break;
            }

            var events = live is null ? new List<RunEvent>(1) : new List<RunEvent>(live.Pending.Count + 1);
            events.AddRange(live?.Pending ?? []);
            RunEvent? published = null;
            if (change.EventType is not null)
            {
                published = new RunEvent(id, NextSequence(current, live), change.EventType, Serialize(change.Data), time.GetUtcNow());
                events.Add(published);
            }

            var result = events.Count == 0 ? change.Run : change.Run with { LastEventSequence = Math.Max(current.LastEventSequence, events[^1].Sequence) };
            if (await store.TryUpdateWithEventsAsync(result, events, current.LastEventSequence, cancellationToken))
            {
                Remember(result, live, published);
                return (result, published);
            }

            // Another router replica changed the run since this one read it (claimed it for its worker,
            // cancelled it): decide again on the run as stored now.
            _active.TryRemove(id, out _);
            current = await store.GetAsync(id, cancellationToken);
        }

        return (null, null);
    }

    /// <summary>
    /// The number of a run's next event: after the last one this router published, when it numbered the run's
    /// events so far; otherwise, for a run on a worker, past those another router (this one before a restart,
    /// another replica) may have published and not written.
    /// </summary>
    private static long NextSequence(RunRecord current, LiveRunEvents? live) =>
        live is not null ? Math.Max(live.Published, current.LastEventSequence) + 1
        : current.Status is RunStatus.Dispatching or RunStatus.Running ? current.LastEventSequence + MaxUnwrittenEvents + 1
        : current.LastEventSequence + 1;

    private void Remember(RunRecord result, LiveRunEvents? live, RunEvent? published)
    {
        live?.Written(result.LastEventSequence);
        if (result.Status.IsTerminal())
        {
            _active.TryRemove(result.Id, out _);
        }
        else
        {
            _active[result.Id] = result;
        }

        if (result.Status is not (RunStatus.Dispatching or RunStatus.Running))
        {
            _live.TryRemove(result.Id, out _);
        }
        else if (live is null && published is not null)
        {
            _live[result.Id] = new LiveRunEvents(published.Sequence);
        }
    }

    private RunRecord? Published((RunRecord? Run, RunEvent? Event) done)
    {
        if (done.Run is not { } run)
        {
            return null;
        }

        if (done.Event is { } runEvent)
        {
            hub.Publish(run, runEvent);
        }

        if (run.Status.IsTerminal())
        {
            inputs.Release(run.Inputs);
        }

        return run;
    }

    /// <summary><paramref name="run"/> as stored, with what this router published of it and has not written yet.</summary>
    private RunRecord? Overlay(RunRecord? run) =>
        run is not null && _live.TryGetValue(run.Id, out var live) ? live.Apply(run) : run;

    private async ValueTask<RunRecord?> CurrentAsync(string id, CancellationToken cancellationToken) =>
        _active.TryGetValue(id, out var live) ? live : await store.GetAsync(id, cancellationToken);

    private SemaphoreSlim Gate(string id) => _runLocks[(StringComparer.Ordinal.GetHashCode(id) & int.MaxValue) % _runLocks.Length];

    /// <summary>
    /// Writes run <paramref name="id"/>'s events published and not yet written, if any still wait: not once the run
    /// has ended (another replica ended it, having taken its worker over), whose history is complete without them.
    /// </summary>
    private Task<RunRecord?> FlushAsync(string id, CancellationToken cancellationToken) =>
        TransitionAsync(
            id,
            current =>
            {
                if (current.Status.IsTerminal())
                {
                    _live.TryRemove(id, out _);
                    return null;
                }

                return _live.TryGetValue(id, out var live) && live.Pending.Count > 0 ? Change.To(current) : null;
            },
            cancellationToken);

    private void StartFlushing()
    {
        if (Volatile.Read(ref _flushTimer) is null)
        {
            var timer = time.CreateTimer(_ => _ = FlushDueAsync(), null, FlushInterval, FlushInterval);
            if (Interlocked.CompareExchange(ref _flushTimer, timer, null) is not null)
            {
                timer.Dispose();
            }
        }
    }

    /// <summary>Every <see cref="FlushInterval"/>: the events that have waited that long are written.</summary>
    private async Task FlushDueAsync()
    {
        if (Interlocked.Exchange(ref _flushing, 1) != 0)
        {
            return;
        }

        try
        {
            var due = time.GetUtcNow() - FlushInterval;
            foreach (var (id, live) in _live)
            {
                if (live.PendingSince <= due)
                {
                    await FlushAsync(id, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: the host flushes what is left.
        }
        catch (Exception ex) when (ex is Storage.StorageException or ObjectDisposedException)
        {
            // Still pending: the run's next write, or the next tick, writes them.
            LogLiveEventsWriteFailed(logger, ex);
        }
        finally
        {
            Volatile.Write(ref _flushing, 0);
        }
    }

    /// <summary>Idempotent: the container disposes this service once for each interface it is registered under.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _flushTimer?.Dispose();
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

    [LoggerMessage(EventId = EventIds.RunServiceLiveEventsWriteFailed, Level = LogLevel.Warning, Message = "Writing runs' progress and preview events failed; they are written with the runs' next write")]
    private static partial void LogLiveEventsWriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.RunServiceFinished, Level = LogLevel.Information, Message = "Run {RunId} {Status} {Reason}")]
    private static partial void LogFinished(ILogger logger, string runId, RunStatus status, string? reason);

    /// <summary>A decided change: the new record and, optionally, the event that describes it.</summary>
    private sealed record Change(RunRecord Run, string? EventType, object? Data)
    {
        public static Change To(RunRecord run, string? eventType = null, object? data = null) => new(run, eventType, data);
    }
}
