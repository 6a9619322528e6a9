using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.WorkerDisks;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// One attempt of one run on one worker: post it through the worker's <see cref="ComfySession"/>
/// (or follow it again after a restart), turn its events into run events, handle cancel, timeout,
/// stalls and loss, and end the run (or put it back in the queue). When the router shuts down it
/// simply stops following: the run stays Dispatching/Running in the store and the next start
/// reconciles it through the worker's history.
/// </summary>
internal sealed partial class RunAttempt(
    RunRecord run,
    RunGraph? graph,
    WorkerState worker,
    ComfySession session,
    IRunTransitions runs,
    IPromptPreparer prompts,
    IRunOutputWriter outputs,
    IAbandonedPrompts abandoned,
    IWorkerSessions sessions,
    WorkerMessageFeed feed,
    DispatchQueue dispatchQueue,
    RouterOptions options,
    TimeProvider time,
    ILogger logger)
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>How far the worker's clock may trail the router's when an interrupt's time is compared with a deadline.</summary>
    private static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromSeconds(2);

    private readonly IRunTransitions _runs = runs;
    private readonly IAbandonedPrompts _abandoned = abandoned;
    private readonly RouterOptions _options = options;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private readonly string _promptId = run.PromptId ?? throw new ArgumentException("A dispatched run has a prompt id.", nameof(run));
    private readonly AttemptInbox _inbox = new();
    private volatile bool _cancelRequested = run.CancelRequested;
    private volatile string? _lostReason;
    private string? _interruptReason;
    private bool _started = run.Status == RunStatus.Running;
    private RunOutputFetcher? _fetcher;

    /// <summary>How many of the files <c>executed</c> messages named are being copied (<see cref="AnnounceOutputs"/>).</summary>
    private int _announced;

    public string RunId => run.Id;

    public WorkerState Worker => worker;

    private ComfyClient Client => session.Client;

    public void RequestCancel()
    {
        _cancelRequested = true;
        _inbox.Wake();
    }

    public void WorkerLost(string reason)
    {
        _lostReason ??= reason;
        _inbox.Wake();
    }

    /// <summary>Posts the prompt (<see cref="ComfySession.RunPromptAsync"/>) and follows it.</summary>
    public async Task DispatchAsync(CancellationToken cancellationToken)
    {
        if (_cancelRequested)
        {
            await _runs.MarkCancelledAsync(run.Id, _promptId, "cancelled before dispatch", cancellationToken);
            return;
        }

        if ((graph ?? RunGraph.TryParse(run.Workflow)) is not { } parsed)
        {
            await _runs.FailAsync(run.Id, _promptId, new RunFailure("invalid_workflow", "The stored workflow is not an API-format graph."), cancellationToken);
            return;
        }

        JsonObject graphToPost;
        try
        {
            graphToPost = await prompts.PrepareAsync(run, parsed, worker, Client, cancellationToken);
        }
        catch (InputRefusedException refused)
        {
            await _runs.FailAsync(run.Id, _promptId, new RunFailure("input_unavailable", refused.Message, refused.InputName.Split('.') is [_, var node, ..] ? node : null), cancellationToken);
            return;
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            worker.ReportPassiveFailure(_time.GetUtcNow() + _options.PassiveHealthReactivation, $"uploading inputs failed: {ex.Message}");
            await LostAsync($"uploading inputs to {worker.Name} failed: {ex.Message}", cancellationToken);
            return;
        }

        LogDispatching(_logger, run.Id, worker.Name, _promptId, run.Attempts);
        var nodeCount = graphToPost.Count;
        using var prompt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Cancelling `prompt` only stops waiting: what happens on the worker is decided here (a router
        // shutting down must leave the prompt running so the next start can pick it up).
        var completion = session.RunPromptAsync(
            graphToPost,
            new ComfyRunOptions
            {
                PromptId = _promptId,
                ExtraData = run.ExtraData is { } extraData ? JsonNode.Parse(extraData) as JsonObject : null,
                OnEvent = _inbox.Add,
                CancelOnWorker = false,

                // Recorded at dispatch; written again only if the socket reconnected meanwhile, so a
                // restarted router listens under the id the events really go to.
                Submitting = (clientId, token) => clientId == run.ClientId ? Task.CompletedTask : _runs.SetClientIdAsync(run.Id, _promptId, clientId, token),
            },
            prompt.Token);
        try
        {
            await FollowAsync(completion, nodeCount, followedOnly: false, follower: null, cancellationToken);
        }
        finally
        {
            await prompt.CancelAsync();
            await completion.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await EndOutputCopiesAsync();
        }
    }

    /// <summary>After a restart: finds the prompt on its worker and finishes, follows or requeues it.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ReconcileAsync(cancellationToken);
        }
        finally
        {
            await EndOutputCopiesAsync();
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        ComfyHistoryEntry? history;
        ComfyQueueState? queue = null;
        try
        {
            history = await Client.GetHistoryAsync(_promptId, cancellationToken);
            if (history is null)
            {
                queue = await Client.GetQueueAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            await LostAsync($"router restarted and {worker.Name} is unreachable: {ex.Message}", cancellationToken);
            return;
        }

        if (history is not null)
        {
            // The worker ran it while this router was away (or before its start was written): the run started
            // when the worker says, so an ended run always has its start and its `started` event.
            if (!_started && history.Status?.Messages.OfType<ComfyExecutionStartEvent>().FirstOrDefault() is { } start)
            {
                _started = true;
                await _runs.MarkRunningAsync(run.Id, _promptId, start.Timestamp is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null, cancellationToken);
            }

            // A cancel stored before the restart asked for the interrupt this history may record:
            // without its reason the outcome would read as someone else's interrupt.
            if (_cancelRequested)
            {
                _interruptReason ??= "cancel";
            }
            else if (history.Status?.Interrupted is { } interrupted && InterruptedAfterRunDeadline(interrupted))
            {
                // The only other interrupt this router sends is the run timeout's: interrupted at or after
                // the run's deadline, it was (most likely) ours, sent before the restart.
                _interruptReason ??= "timeout";
            }

            await FinishAsync(FromHistory(history), [], cancellationToken);
            return;
        }

        if (!queue!.Contains(_promptId))
        {
            // Lost with the worker (restarted) or never posted: run it again (the worker has no trace of it).
            await LostAsync($"router restarted and {worker.Name} no longer has prompt {_promptId}", cancellationToken);
            return;
        }

        if (queue.Running.Any(i => i.PromptId == _promptId) && !_started)
        {
            _started = true;
            await _runs.MarkRunningAsync(run.Id, _promptId, null, cancellationToken);
        }

        LogResumed(_logger, run.Id, worker.Name, _promptId);

        // The prompt's events go to the previous process's client id: listen under it on an extra
        // socket while the prompt is followed (the outcome still comes from /history, which the
        // follower polls too, so a socket that never hears anything costs only the events). Runs
        // stored before client ids were recorded are followed through /history alone.
        var nodeCount = (graph ?? RunGraph.TryParse(run.Workflow))?.NodeCount ?? 0;
        if (run.ClientId is not { } clientId)
        {
            using var polled = session.Follow(_promptId, _inbox.Add);
            await FollowAsync(polled.Completion, nodeCount, followedOnly: true, follower: null, cancellationToken);
            return;
        }

        await using var lease = sessions.Follow(worker, clientId);
        using var followed = lease.Session.Follow(_promptId, _inbox.Add);
        await FollowAsync(followed.Completion, nodeCount, followedOnly: true, lease.Session, cancellationToken);
    }

    /// <summary>
    /// Whether the worker's interrupt (its own clock, or now when the entry has no timestamp) came at or
    /// after the run's deadline, give or take <see cref="ClockSkewAllowance"/> between the two clocks.
    /// </summary>
    private bool InterruptedAfterRunDeadline(ComfyExecutionInterruptedEvent interrupted)
    {
        if ((run.StartedAt ?? run.DispatchedAt) is not { } start)
        {
            return false;
        }

        var at = interrupted.Timestamp is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : _time.GetUtcNow();
        return at >= start + _options.RunTimeout - ClockSkewAllowance;
    }

    /// <param name="completion">Completes when the prompt is done on the worker (or known lost); faults when it could not be posted.</param>
    /// <param name="nodeCount">Nodes in the graph, for the overall fraction.</param>
    /// <param name="followedOnly">True when the prompt was posted by an earlier process: its events reach us only through <paramref name="follower"/>, if at all.</param>
    /// <param name="follower">
    /// The session listening under the earlier client id, or null. Silence on it is read as a stall only
    /// once its current connection has delivered an event of this prompt: a socket opened under a reused id
    /// may be orphaned without notice (docs/comfyui-protocol.md §5.1), and then silence says nothing.
    /// </param>
    /// <param name="cancellationToken">Router shutdown.</param>
    /// <remarks>The prompt's events come in order through <see cref="_inbox"/>, which the subscription's receive loop fills.</remarks>
    private async Task FollowAsync(Task<ComfyPromptCompletion> completion, int nodeCount, bool followedOnly, ComfySession? follower, CancellationToken cancellationToken)
    {
        _inbox.Start(completion, Tick, _time, cancellationToken);
        try
        {
            await FollowEventsAsync(completion, nodeCount, followedOnly, follower, cancellationToken);
        }
        finally
        {
            _inbox.Stop();
        }
    }

    private async Task FollowEventsAsync(Task<ComfyPromptCompletion> completion, int nodeCount, bool followedOnly, ComfySession? follower, CancellationToken cancellationToken)
    {
        // The follower connection (ConnectionCount) that last delivered an event; 0 = none yet.
        var liveConnection = 0;
        var progress = new ProgressTracker(nodeCount);
        var files = new List<(string NodeId, ComfyFileRef File)>();
        var now = _time.GetUtcNow();
        var lastActivity = now;
        var runDeadline = (run.StartedAt ?? run.DispatchedAt ?? now) + _options.RunTimeout;
        DateTimeOffset? interruptDeadline = null;
        if (_started)
        {
            worker.RunningRunId = run.Id;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            if (_lostReason is { } lost)
            {
                await LostAsync(lost, cancellationToken);
                return;
            }

            if (_cancelRequested && _interruptReason is null)
            {
                _interruptReason = "cancel";
                interruptDeadline = _time.GetUtcNow() + _options.InterruptTimeout;
                if (await TryStopOnWorkerAsync(cancellationToken) is { } stopped)
                {
                    if (stopped.History is not null)
                    {
                        await FinishAsync(FromHistory(stopped.History), files, cancellationToken);
                    }
                    else
                    {
                        await _runs.MarkCancelledAsync(run.Id, _promptId, "cancelled by request; removed from the worker's queue", cancellationToken);
                    }

                    return;
                }
            }

            // Events first: a completed prompt's last events are handled before its completion.
            var next = await NextAsync();
            now = _time.GetUtcNow();
            if (next is not null)
            {
                lastActivity = now;
                if (follower is not null)
                {
                    // An event received just before a reconnect but read after it counts for the new
                    // connection: a small window in which silence on an orphaned socket reads as a stall.
                    liveConnection = follower.ConnectionCount;
                }

                if (_started)
                {
                    // The client's copy first: it waits for nothing of the run's own (an `executed` begins the file's copy).
                    feed.Publish(run.Id, next);
                    await OnEventAsync(next, progress, files, cancellationToken);
                }
                else
                {
                    // After the run's own state took it in: a client told "execution_start" finds the run running.
                    await OnEventAsync(next, progress, files, cancellationToken);
                    feed.Publish(run.Id, next);
                }

                // Copies begin once the messages queued behind their `executed` are read: when those end the prompt, its
                // end reaches the client first (CollectAsync begins them then).
                if (_inbox.IsEmpty && !completion.IsCompleted)
                {
                    AnnounceOutputs(files, cancellationToken);
                }
            }
            else if (completion.IsCompleted && _inbox.IsEmpty)
            {
                await CompleteAsync(completion, files, cancellationToken);
                return;
            }

            // Deadlines are checked after every event too: a worker streaming progress can still overrun.
            if (_interruptReason is null && now >= runDeadline)
            {
                _interruptReason = "timeout";
                interruptDeadline = now + _options.InterruptTimeout;
                LogTimedOut(_logger, run.Id, worker.Name);
                if (await TryStopOnWorkerAsync(cancellationToken) is { } stopped)
                {
                    // Gone from the worker's queue: deleted before it started (nothing to interrupt,
                    // nothing to wait for), or it ended just now and its history says how.
                    if (stopped.History is not null)
                    {
                        await FinishAsync(FromHistory(stopped.History), files, cancellationToken);
                    }
                    else
                    {
                        await _runs.FailAsync(run.Id, _promptId, new RunFailure("timeout", $"The run exceeded Router:RunTimeout ({_options.RunTimeout}) while still queued on {worker.Name}; it was removed from the worker's queue."), cancellationToken);
                    }

                    return;
                }
            }

            if (interruptDeadline is { } deadline && now >= deadline)
            {
                var message = _interruptReason == "cancel"
                    ? $"The worker did not confirm the cancel within {_options.InterruptTimeout.TotalSeconds:0.#}s."
                    : $"The run exceeded Router:RunTimeout ({_options.RunTimeout}) and the worker did not confirm the interrupt.";
                await _runs.FailAsync(run.Id, _promptId, new RunFailure("timeout", message), cancellationToken);
                await _abandoned.AddAsync(worker.BaseAddress, _promptId, run.Id, cancellationToken);
                return;
            }

            var eventsReachUs = !followedOnly
                || (follower is { State: ComfySessionState.Connected } listening && listening.ConnectionCount == liveConnection);
            if (_started && eventsReachUs && _interruptReason is null && now - lastActivity >= _options.NoProgressTimeout)
            {
                var reason = $"no progress on {worker.Name} for {_options.NoProgressTimeout.TotalSeconds:0.#}s";
                worker.ReportPassiveFailure(now + _options.PassiveHealthReactivation, reason);
                await LostAsync(reason, cancellationToken);
                return;
            }

            // A run waiting in the queue of a worker that stalled (on another run) or failed a dispatch would wait behind it until its timeout.
            if (!_started && _interruptReason is null && worker.PassiveHealth(now) == HealthState.Unhealthy)
            {
                await LostAsync($"{worker.Name} is out of rotation ({worker.LastError}); moved off its queue", cancellationToken);
                return;
            }

            if (session.State != ComfySessionState.Connected && session.DisconnectedSince is { } since && now - since >= _options.WorkerLostGrace)
            {
                await LostAsync($"lost the connection to {worker.Name} for {(now - since).TotalSeconds:0.#}s", cancellationToken);
                return;
            }
        }
    }

    private async Task OnEventAsync(ComfyEvent next, ProgressTracker progress, List<(string NodeId, ComfyFileRef File)> files, CancellationToken cancellationToken)
    {
        switch (next)
        {
            case ComfyExecutionStartEvent:
                await MarkStartedAsync(cancellationToken);
                break;
            case ComfyExecutionCachedEvent cached:
                progress.Cached(cached.Nodes);
                break;
            case ComfyExecutingEvent { IsPromptDone: false } executing:
                await MarkStartedAsync(cancellationToken);
                progress.Executing(executing.Node);
                break;
            case ComfyProgressEvent step:
                await MarkStartedAsync(cancellationToken);
                var fraction = progress.Update(step.Node, step.Value, step.Max);
                await _runs.ProgressAsync(run.Id, step.Node, step.Value, step.Max, fraction, cancellationToken);
                break;
            case ComfyPreviewImageEvent preview:
                await _runs.PreviewAsync(run.Id, preview.Image, preview.MediaType, cancellationToken);
                break;
            case ComfyExecutedEvent executed:
                // Copied from the next AnnounceOutputs on, while the prompt's other messages still arrive; the completion says which are the run's.
                foreach (var file in executed.Files)
                {
                    files.Add((executed.Node ?? "", file));
                }

                break;
        }
    }

    /// <summary>Begins copying the files <c>executed</c> messages named since the last call.</summary>
    private void AnnounceOutputs(List<(string NodeId, ComfyFileRef File)> files, CancellationToken cancellationToken)
    {
        for (; _announced < files.Count; _announced++)
        {
            Fetcher(cancellationToken).Announce(files[_announced].NodeId, files[_announced].File);
        }
    }

    private async Task CompleteAsync(Task<ComfyPromptCompletion> completion, List<(string NodeId, ComfyFileRef File)> files, CancellationToken cancellationToken)
    {
        ComfyPromptCompletion result;
        try
        {
            result = await completion;
        }
        catch (ComfyPromptRejectedException ex)
        {
            var (node, error) = ex.AllNodeErrors.FirstOrDefault();
            await _runs.FailAsync(
                run.Id,
                _promptId,
                new RunFailure("rejected", $"The worker rejected the workflow: {ex.Message}", node?.NodeId, node?.ClassType, error?.Type ?? ex.Error.Type),
                cancellationToken);
            return;
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            worker.ReportPassiveFailure(_time.GetUtcNow() + _options.PassiveHealthReactivation, $"POST /prompt failed: {ex.Message}");
            await LostAsync($"dispatch to {worker.Name} failed: {ex.Message}", cancellationToken);
            return;
        }

        PublishSucceeded(result, files);
        await FinishAsync(result, files, cancellationToken);
    }

    /// <summary>
    /// The worker has ended the prompt with success: its ComfyUI client hears so now, while the outputs are copied and
    /// the run's end is written (a copy that then fails fails the run, which <c>/history</c> shows).
    /// </summary>
    private void PublishSucceeded(ComfyPromptCompletion result, List<(string NodeId, ComfyFileRef File)> seen)
    {
        if (result.Outcome == ComfyPromptOutcome.Success && feed.Listens(run.Id))
        {
            feed.PublishSucceeded(run.Id, OutputsOf(result, seen));
        }
    }

    /// <summary>The files a successful prompt produced, each once: those its completion lists, else those its <c>executed</c> messages named.</summary>
    private static List<(string NodeId, ComfyFileRef File)> OutputsOf(ComfyPromptCompletion result, List<(string NodeId, ComfyFileRef File)> seen)
    {
        var listed = result.Outputs.SelectMany(o => o.Files.Select(f => (o.NodeId, File: f))).ToList();
        return (listed.Count > 0 ? listed : seen).DistinctBy(f => f.File).ToList();
    }

    private async Task FinishAsync(ComfyPromptCompletion result, List<(string NodeId, ComfyFileRef File)> seen, CancellationToken cancellationToken)
    {
        FreeSlot();
        switch (result.Outcome)
        {
            case ComfyPromptOutcome.Success:
                await CollectAsync(OutputsOf(result, seen), cancellationToken);
                break;
            case ComfyPromptOutcome.Interrupted:
                await InterruptedAsync(cancellationToken);
                break;
            case ComfyPromptOutcome.Error when result.Error is { } error:
                await _runs.FailAsync(run.Id, _promptId, new RunFailure("execution_error", error.ExceptionMessage ?? "ComfyUI reported an execution error.", error.NodeId, error.NodeType, error.ExceptionType), cancellationToken);
                break;
            case ComfyPromptOutcome.Error:
                await _runs.FailAsync(run.Id, _promptId, new RunFailure("execution_error", "The worker reports the prompt as failed without details."), cancellationToken);
                break;
            default:
                if (_interruptReason == "cancel")
                {
                    await _runs.MarkCancelledAsync(run.Id, _promptId, "cancelled by request; removed from the worker's queue", cancellationToken);
                }
                else
                {
                    await LostAsync($"{worker.Name} no longer has prompt {_promptId} (restarted?)", cancellationToken);
                }

                break;
        }
    }

    /// <summary>
    /// The prompt has ended on the worker: its slot goes to the next run now (the dispatcher is woken), not when
    /// the outputs are stored. The worker counts this run as finishing until the attempt ends (drains wait for it).
    /// </summary>
    private void FreeSlot()
    {
        if (worker.PromptEnded(run.Id))
        {
            dispatchQueue.Signal();
        }
    }

    private async Task MarkStartedAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        worker.RunningRunId = run.Id;
        await _runs.MarkRunningAsync(run.Id, _promptId, null, cancellationToken);
    }

    /// <summary>
    /// Deletes the prompt from the worker's queue and interrupts it by prompt_id (both are no-ops
    /// when they do not apply). Returns a result when the prompt is already gone from the worker.
    /// </summary>
    private async Task<StopResult?> TryStopOnWorkerAsync(CancellationToken cancellationToken)
    {
        await TryAsync(async () => { await Client.DeleteFromQueueAsync([_promptId], cancellationToken); return true; }, cancellationToken);
        await TryAsync(async () => { await Client.InterruptAsync(_promptId, cancellationToken); return true; }, cancellationToken);
        if (_started)
        {
            return null;
        }

        var queue = await TryAsync<ComfyQueueState>(async () => await Client.GetQueueAsync(cancellationToken), cancellationToken);
        if (queue is null || queue.Contains(_promptId))
        {
            return null;
        }

        var history = await TryAsync(() => Client.GetHistoryAsync(_promptId, cancellationToken), cancellationToken);
        return new StopResult(history);
    }

    private async Task InterruptedAsync(CancellationToken cancellationToken)
    {
        switch (_interruptReason)
        {
            case "cancel":
                await _runs.MarkCancelledAsync(run.Id, _promptId, "cancelled by request; interrupted on the worker", cancellationToken);
                break;
            case "timeout":
                await _runs.FailAsync(run.Id, _promptId, new RunFailure("timeout", $"The run exceeded Router:RunTimeout ({_options.RunTimeout}) and was interrupted."), cancellationToken);
                break;
            default:
                await _runs.FailAsync(run.Id, _promptId, new RunFailure("interrupted", "The prompt was interrupted on the worker by someone else."), cancellationToken);
                break;
        }
    }

    /// <summary>Succeeds the run with <paramref name="wanted"/> (their copies, made since they were announced or now), or fails it when one cannot be had.</summary>
    private async Task CollectAsync(List<(string NodeId, ComfyFileRef File)> wanted, CancellationToken cancellationToken)
    {
        var fetcher = Fetcher(cancellationToken);
        foreach (var (nodeId, file) in wanted)
        {
            // Those the worker did not announce are copied after those it did.
            fetcher.Announce(nodeId, file);
        }

        var produced = new List<RunOutput>(wanted.Count);
        var ownFolder = PromptPreparer.OutputFolderOf(run);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (nodeId, file) in wanted)
        {
            var name = OutputNames.Sanitize(file.Filename);
            if (!names.Add(name))
            {
                name = OutputNames.Sanitize($"{nodeId}_{file.Filename}");
                names.Add(name);
            }

            var copy = await fetcher.GetAsync(nodeId, file, cancellationToken);
            if (copy.FetchError is { } fetchError)
            {
                await _runs.FailAsync(run.Id, _promptId, new RunFailure("output_unavailable", $"Could not fetch output '{file.Filename}' from {worker.Name}: {fetchError.Message}", nodeId), cancellationToken);
                return;
            }

            if (copy.StoreError is { } storeError)
            {
                // The store retried with backoff (S3 down); the run stayed Running meanwhile.
                await _runs.FailAsync(run.Id, _promptId, new RunFailure("output-upload", $"Could not store output '{name}' ({storeError.GetType().Name}: {storeError.Message}); the file is still on {worker.Name}.", nodeId), cancellationToken);
                return;
            }

            // Only files under the attempt's own prefix are recorded for deletion: a preview or a cached node's file may be another run's too.
            var own = file.Subfolder == ownFolder || file.Subfolder.StartsWith(ownFolder + "/", StringComparison.Ordinal);
            produced.Add(copy.Output! with { Name = name, ContentType = OutputNames.ContentType(name), Source = own ? WorkerFile.Of(file) : null });
        }

        foreach (var output in produced)
        {
            fetcher.Keep(output);
        }

        await _runs.SucceedAsync(run.Id, _promptId, produced, cancellationToken);
    }

    /// <summary>The attempt's output copies (<see cref="RunOutputFetcher"/>), begun with the first file announced or wanted.</summary>
    private RunOutputFetcher Fetcher(CancellationToken cancellationToken) =>
        _fetcher ??= new RunOutputFetcher(run, Client, outputs, _logger, cancellationToken);

    /// <summary>Stops the copying of outputs and deletes the copies the run did not record (before a requeue: the next attempt writes the same names).</summary>
    private async Task EndOutputCopiesAsync()
    {
        if (_fetcher is not null)
        {
            await _fetcher.DisposeAsync();
        }
    }

    /// <summary>
    /// The attempt is over without an outcome: requeue (or fail after MaxAttempts). The prompt may
    /// still be queued or running on the worker (hung, or only its socket died), so it is deleted
    /// or interrupted there, now and again when the worker answers later; whatever it reports for
    /// this prompt id afterwards is ignored, since the run record now names another attempt.
    /// </summary>
    private async Task LostAsync(string reason, CancellationToken cancellationToken)
    {
        await EndOutputCopiesAsync();
        worker.Release(run.Id);
        LogLost(_logger, run.Id, worker.Name, reason);
        await _abandoned.AddAsync(worker.BaseAddress, _promptId, run.Id, cancellationToken);
        if (run.Attempts >= _options.MaxAttempts)
        {
            await _runs.FailAsync(run.Id, _promptId, new RunFailure("worker_lost", $"{reason}; gave up after {run.Attempts} attempts (Router:MaxAttempts)."), cancellationToken);
        }
        else
        {
            await _runs.RequeueAsync(run.Id, _promptId, reason, cancellationToken);
        }
    }

    /// <summary>The next event, or null after at most <see cref="Tick"/> (or a wake-up, or the prompt's end).</summary>
    private async ValueTask<ComfyEvent?> NextAsync()
    {
        if (_inbox.TryRead(out var ready))
        {
            return ready;
        }

        await _inbox.WaitAsync();
        return _inbox.TryRead(out var next) ? next : null;
    }

    private static async Task<T?> TryAsync<T>(Func<Task<T?>> call, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            return null;
        }
    }

    private static async Task<bool?> TryAsync(Func<Task<bool>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            return null;
        }
    }

    internal static bool IsTransportFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is HttpRequestException or IOException or TimeoutException or System.Text.Json.JsonException or System.Net.WebSockets.WebSocketException
        || (ex is ComfyHttpException and not ComfyPromptRejectedException)
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static ComfyPromptCompletion FromHistory(ComfyHistoryEntry history) =>
        new(history.PromptId, history.Outcome, history, history.Status?.Error, history.Status?.Interrupted, true);

    [LoggerMessage(EventId = EventIds.RunAttemptDispatching, Level = LogLevel.Debug, Message = "Run {RunId} goes to {Worker} as prompt {PromptId} (attempt {Attempt})")]
    private static partial void LogDispatching(ILogger logger, string runId, string worker, string promptId, int attempt);

    [LoggerMessage(EventId = EventIds.RunAttemptResumed, Level = LogLevel.Information, Message = "Run {RunId} resumed on {Worker} (prompt {PromptId})")]
    private static partial void LogResumed(ILogger logger, string runId, string worker, string promptId);

    [LoggerMessage(EventId = EventIds.RunAttemptTimedOut, Level = LogLevel.Warning, Message = "Run {RunId} timed out on {Worker}; interrupting")]
    private static partial void LogTimedOut(ILogger logger, string runId, string worker);

    [LoggerMessage(EventId = EventIds.RunAttemptLost, Level = LogLevel.Warning, Message = "Run {RunId} lost its worker {Worker}: {Reason}")]
    private static partial void LogLost(ILogger logger, string runId, string worker, string reason);

    private sealed record StopResult(ComfyHistoryEntry? History);
}
