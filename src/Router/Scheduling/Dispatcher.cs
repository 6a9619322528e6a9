using System.Collections.Concurrent;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Takes each run from the queue together with the worker the scheduler placed it on (one
/// decision: healthy, connected, under its queue allowance, labels, models, policy) and runs each
/// attempt as its own task. A submitted run that the same decision takes at once is placed before it
/// is stored (<see cref="TryPlace"/>): it is stored dispatching and its attempt starts with no queue wait.
/// Also resumes the runs that were on workers when the router last stopped, and, with active/active
/// replicas, the runs on each worker whose lease this replica takes from one that stopped renewing it.
/// </summary>
internal sealed partial class Dispatcher(
    DispatchQueue queue,
    IRunTransitions runs,
    RunAttemptFactory attempts,
    ActiveAttempts active,
    WorkerRegistry registry,
    WorkerConnections connections,
    HealthProber prober,
    RunRecovery recovery,
    IAbandonedPrompts abandoned,
    IWorkerLeases leases,
    IRunStore store,
    IOptions<RouterOptions> options,
    IOptions<Storage.StoreOptions> storeOptions,
    TimeProvider time,
    ILogger<Dispatcher> logger) : BackgroundService, IImmediateDispatcher
{
    private readonly RouterOptions _options = options.Value;
    private readonly bool _shared = storeOptions.Value.IsActiveActive;
    private readonly ILogger _logger = logger;
    private readonly ConcurrentDictionary<string, RunAttempt> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Runs this replica dispatches or follows now (an attempt runs for each), so a takeover never follows one twice.</summary>
    private readonly ConcurrentDictionary<string, byte> _following = new(StringComparer.Ordinal);

    /// <summary>Runs are placed at submit once the recovered runs hold their workers' slots, until the router stops.</summary>
    private volatile bool _placing;
    private CancellationToken _stopping;

    /// <summary>The context attempts run in: the service's, not that of the request that submitted a run placed at once.</summary>
    private ExecutionContext? _context;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        _context = ExecutionContext.Capture();
        connections.Connected += (_, _) => queue.Signal();
        prober.Recovered += (_, _) => queue.Signal();
        prober.Lost += (_, worker) =>
        {
            foreach (var attempt in _attempts.Values.Where(a => a.Worker == worker))
            {
                attempt.WorkerLost($"{worker.Name} stopped answering its health probe");
            }
        };
        connections.Start();

        // Recovered runs hold their worker slot before anything new is placed. A worker another replica
        // holds is that replica's to follow; this one follows its runs if it takes the worker over.
        var resumed = new List<(RunRecord Run, WorkerState? Worker)>();
        foreach (var run in recovery.OnWorkers)
        {
            var worker = run.Worker is null ? null : registry.Find(run.Worker);
            if (worker is not null && !leases.Holds(worker.BaseAddress))
            {
                continue;
            }

            worker?.ForceAssign(run.Id);
            resumed.Add((run, worker));
        }

        leases.Acquired += (_, worker) => Track(FollowTakenOverAsync(worker, stoppingToken));

        foreach (var (run, worker) in resumed)
        {
            _following[run.Id] = 0;
            Track(ResumeAsync(run, worker, stoppingToken));
        }

        _placing = true;

        // Also wake up now and then: passive-unhealthy workers come back by time alone. One timer for the
        // service's life, not one per wake-up (the loop wakes several times per run).
        using var tick = time.CreateTimer(_ => queue.Signal(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        // Stopping wakes the loop once, rather than each wait being made cancellable (the loop waits several times per run).
        using var stopping = stoppingToken.UnsafeRegister(static state => ((DispatchQueue)state!).Wake(), queue);
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = queue.WaitForChangeAsync();
            DispatchReady(stoppingToken);
            await changed;
        }

        _placing = false;
        await Task.WhenAll(_running.Keys);
    }

    /// <summary>
    /// The queue's decision for a ready run being submitted (<see cref="DispatchQueue.TryTakeNow"/>) and the worker's
    /// slot, as <see cref="DispatchReady"/> takes them. Not with active/active replicas: there every replica's queue
    /// holds every queued run and a run is claimed through the store, so a run is stored queued first.
    /// </summary>
    public IImmediateDispatch? TryPlace(RunRecord run, RunGraph graph)
    {
        if (_shared || !_placing || _stopping.IsCancellationRequested)
        {
            return null;
        }

        var next = new QueuedRun(run.Id, run.Priority, long.MaxValue) { Owner = run.Owner, Deployment = run.Deployment, Workflow = run.Workflow, Graph = graph };
        if (!queue.TryTakeNow(next, out var worker))
        {
            return null;
        }

        var session = worker.TryAssign(run.Id, _options.MaxQueuePerWorker) ? connections.Get(worker) : null;
        var placed = new Placed(this, queue, next, worker, session, Guid.NewGuid().ToString("D"));
        if (session is null)
        {
            placed.Abandon();
            return null;
        }

        return placed;
    }

    private void DispatchReady(CancellationToken cancellationToken)
    {
        while (queue.TryDequeue(out var next, out var worker))
        {
            if (!worker.TryAssign(next.RunId, _options.MaxQueuePerWorker))
            {
                // Filled up since the decision (a recovered run took the slot): wait for the next change.
                queue.ClaimSettled(next.RunId, counts: true);
                queue.TryEnqueue(next);
                return;
            }

            Track(DispatchAsync(next, worker, stored: null, cancellationToken));
        }
    }

    /// <param name="next">The run the queue handed out.</param>
    /// <param name="worker">The worker it was placed on, its slot assigned.</param>
    /// <param name="stored">The run as its insert stored it, dispatching on <paramref name="worker"/> (placed at submit), with the
    /// session it goes out on; null: claimed here (queued → dispatching).</param>
    /// <param name="cancellationToken">Router shutdown.</param>
    private async Task DispatchAsync(QueuedRun next, WorkerState worker, (RunRecord Run, ComfySession Session)? stored, CancellationToken cancellationToken)
    {
        _following[next.RunId] = 0;
        var settled = stored is not null;
        try
        {
            var session = stored?.Session ?? connections.Get(worker);
            var run = stored?.Run;
            if (stored is null)
            {
                run = session is null ? null : await runs.BeginDispatchAsync(next.RunId, worker.BaseAddress.ToString(), Guid.NewGuid().ToString("D"), ClientIdOf(session), cancellationToken);
                // With active/active replicas a claim the store refused (another replica claimed the run) gives its
                // count back; that replica's claim is counted when it is heard.
                queue.ClaimSettled(next.RunId, counts: !_shared || session is null || run is not null);
                settled = true;
                if (run is null)
                {
                    if (session is null)
                    {
                        queue.TryEnqueue(next);
                    }

                    return;
                }
            }

            var attempt = attempts.Create(run!, next.Graph, worker, session!);
            using (await RegisterAsync(attempt, cancellationToken))
            {
                await attempt.DispatchAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the run stays as stored and is reconciled on the next start.
        }
        catch (Exception ex)
        {
            LogAttemptFailed(_logger, next.RunId, ex);
        }
        finally
        {
            if (!settled)
            {
                queue.ClaimSettled(next.RunId, counts: true);
            }

            _following.TryRemove(next.RunId, out _);
            worker.Release(next.RunId);
            queue.Signal();
        }
    }

    /// <summary>
    /// This replica took <paramref name="uri"/>'s lease: the runs stored as on it and not followed here were
    /// left by the replica that held it before, and are followed to their end as after a restart.
    /// </summary>
    private async Task FollowTakenOverAsync(Uri uri, CancellationToken cancellationToken)
    {
        queue.Signal();
        var worker = registry.Find(uri.ToString());
        if (worker is null)
        {
            return;
        }

        // Nobody else follows these runs: keep trying while this replica holds the worker.
        while (!cancellationToken.IsCancellationRequested && leases.Holds(uri))
        {
            try
            {
                var left = (await store.ListUnfinishedAsync(cancellationToken))
                    .Where(r => r.Status != RunStatus.Queued && string.Equals(r.Worker, worker.BaseAddress.ToString(), StringComparison.Ordinal))
                    .ToList();
                foreach (var run in left)
                {
                    if (_following.TryAdd(run.Id, 0))
                    {
                        worker.ForceAssign(run.Id);
                        Track(ResumeAsync(run, worker, cancellationToken));
                    }
                }

                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFollowFailed(_logger, uri.ToString(), ex);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task ResumeAsync(RunRecord run, WorkerState? worker, CancellationToken cancellationToken)
    {
        try
        {
            if (worker is null || run.PromptId is null)
            {
                await runs.RequeueAsync(run.Id, run.PromptId!, "router restarted; the run's worker is no longer configured", cancellationToken);
                return;
            }

            var session = connections.Get(worker);
            var deadline = time.GetUtcNow() + _options.WorkerLostGrace + _options.ProbeTimeout;
            while (session is not null && !connections.IsConnected(worker) && worker.ActiveHealth != HealthState.Unhealthy && time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
            }

            if (session is null || !connections.IsConnected(worker))
            {
                if (session is not null)
                {
                    await abandoned.AddAsync(worker.BaseAddress, run.PromptId, run.Id, cancellationToken);
                }

                await runs.RequeueAsync(run.Id, run.PromptId, $"router restarted and {worker.Name} is unreachable", cancellationToken);
                return;
            }

            var attempt = attempts.Create(run, null, worker, session);
            using (await RegisterAsync(attempt, cancellationToken))
            {
                await attempt.ResumeAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex)
        {
            LogAttemptFailed(_logger, run.Id, ex);
        }
        finally
        {
            _following.TryRemove(run.Id, out _);
            worker?.Release(run.Id);
            queue.Signal();
        }
    }

    /// <summary>
    /// Makes the attempt reachable by a cancel (<see cref="ActiveAttempts"/>) and by worker loss until
    /// the returned handle is disposed. A DELETE that landed after the run was read for this attempt
    /// but before it was registered found no attempt to tell: it is seen here, in the run as stored
    /// now, so no cancel is lost in between.
    /// </summary>
    private async Task<IDisposable> RegisterAsync(RunAttempt attempt, CancellationToken cancellationToken)
    {
        _attempts[attempt.RunId] = attempt;
        var cancel = active.Register(attempt.RunId, attempt.RequestCancel);
        var registration = new Registration(() =>
        {
            cancel.Dispose();
            _attempts.TryRemove(new KeyValuePair<string, RunAttempt>(attempt.RunId, attempt));
        });
        try
        {
            if ((await runs.GetAsync(attempt.RunId, cancellationToken))?.CancelRequested == true)
            {
                attempt.RequestCancel();
            }
        }
        catch
        {
            registration.Dispose();
            throw;
        }

        return registration;
    }

    private void Track(Task task)
    {
        _running[task] = 0;
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static string? ClientIdOf(ComfySession session) => session.ClientId is { Length: > 0 } clientId ? clientId : null;

    private sealed class Registration(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    /// <summary>A run placed at submit (<see cref="TryPlace"/>): counted in fair share and holding its worker's slot until started or abandoned.</summary>
    private sealed class Placed(Dispatcher dispatcher, DispatchQueue queue, QueuedRun next, WorkerState worker, ComfySession? session, string promptId) : IImmediateDispatch
    {
        public string Worker => worker.BaseAddress.ToString();

        public string PromptId => promptId;

        public string? ClientId { get; } = session is null ? null : ClientIdOf(session);

        private RunRecord? _stored;

        public void Start(RunRecord run)
        {
            _stored = run;
            queue.ClaimSettled(next.RunId, counts: true);
            if (dispatcher._context is { } context)
            {
                ExecutionContext.Run(context, static state => ((Placed)state!).Dispatch(), this);
            }
            else
            {
                Dispatch();
            }
        }

        public void Abandon()
        {
            worker.Release(next.RunId);
            queue.ClaimSettled(next.RunId, counts: false);
            queue.Signal();
        }

        private void Dispatch() => dispatcher.Track(dispatcher.DispatchAsync(next, worker, (_stored!, session!), dispatcher._stopping));
    }

    [LoggerMessage(EventId = EventIds.DispatcherFollowFailed, Level = LogLevel.Error, Message = "Following the runs left on worker {Worker} after taking it over failed")]
    private static partial void LogFollowFailed(ILogger logger, string worker, Exception exception);

    [LoggerMessage(EventId = EventIds.DispatcherAttemptFailed, Level = LogLevel.Error, Message = "Dispatching run {RunId} failed unexpectedly")]
    private static partial void LogAttemptFailed(ILogger logger, string runId, Exception exception);
}
