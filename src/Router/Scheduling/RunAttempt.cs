using System.Text.Json.Nodes;
using System.Threading.Channels;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// One attempt of one run on one worker: post (or resume after a restart), follow the worker's
/// events, handle cancel, timeout, stalls and loss, and end the run (or put it back in the queue).
/// When the router shuts down it simply stops following: the run stays Dispatching/Running in the
/// store and the next start reconciles it through the worker's history.
/// </summary>
internal sealed partial class RunAttempt(
    RunRecord run,
    WorkerState worker,
    IComfyWorker connection,
    RunService runs,
    IOutputStore outputs,
    RouterOptions options,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>How quiet a prompt must be before its history is polled (in case the socket dropped events).</summary>
    private static readonly TimeSpan HistoryPollInterval = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    private readonly string _promptId = run.PromptId ?? throw new ArgumentException("A dispatched run has a prompt id.", nameof(run));
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _cancelRequested = run.CancelRequested;
    private volatile string? _lostReason;
    private string? _interruptReason;
    private bool _started = run.Status == RunStatus.Running;

    public string RunId => run.Id;

    public WorkerState Worker => worker;

    public void RequestCancel()
    {
        _cancelRequested = true;
        _wake.TrySetResult();
    }

    public void WorkerLost(string reason)
    {
        _lostReason ??= reason;
        _wake.TrySetResult();
    }

    /// <summary>Posts the prompt and follows it.</summary>
    public async Task DispatchAsync(CancellationToken cancellationToken)
    {
        using var watch = connection.Watch(_promptId);
        if (_cancelRequested)
        {
            await runs.MarkCancelledAsync(run.Id, _promptId, "cancelled before dispatch", cancellationToken);
            return;
        }

        JsonObject graph;
        try
        {
            graph = GraphPreparer.Prepare(run.Workflow, run.Id, run.Attempts);
        }
        catch (System.Text.Json.JsonException ex)
        {
            await runs.FailAsync(run.Id, _promptId, new RunFailure("invalid_workflow", ex.Message), cancellationToken);
            return;
        }

        try
        {
            await connection.PostPromptAsync(graph, _promptId, cancellationToken);
        }
        catch (WorkerRejectedException ex)
        {
            await runs.FailAsync(run.Id, _promptId, new RunFailure("rejected", $"The worker rejected the workflow: {ex.Message}", ex.NodeId, ex.NodeType, ex.ErrorType), cancellationToken);
            return;
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            worker.ReportPassiveFailure(time.GetUtcNow() + options.PassiveHealthReactivation, $"POST /prompt failed: {ex.Message}");
            await LostAsync($"dispatch to {worker.Name} failed: {ex.Message}", cancellationToken);
            return;
        }

        LogPosted(logger, run.Id, worker.Name, _promptId, run.Attempts);
        await FollowAsync(watch.Events, CountNodes(graph), cancellationToken);
    }

    /// <summary>After a restart: finds the prompt on its worker and finishes, follows or requeues it.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        using var watch = connection.Watch(_promptId);
        WorkerHistory? history;
        WorkerQueue queue;
        try
        {
            history = await connection.GetHistoryAsync(_promptId, cancellationToken);
            queue = history is null ? await connection.GetQueueAsync(cancellationToken) : new WorkerQueue([], []);
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            await LostAsync($"router restarted and {worker.Name} is unreachable: {ex.Message}", cancellationToken);
            return;
        }

        if (history is not null)
        {
            await FinishFromHistoryAsync(history, [], cancellationToken);
            return;
        }

        if (!queue.Contains(_promptId))
        {
            // Lost with the worker (restarted) or never posted: run it again (the worker has no trace of it).
            await LostAsync($"router restarted and {worker.Name} no longer has prompt {_promptId}", cancellationToken);
            return;
        }

        if (queue.Running.Contains(_promptId) && !_started)
        {
            _started = true;
            await runs.MarkRunningAsync(run.Id, _promptId, cancellationToken);
        }

        LogResumed(logger, run.Id, worker.Name, _promptId);
        await FollowAsync(watch.Events, CountNodes(JsonNode.Parse(run.Workflow)?.AsObject()), cancellationToken);
    }

    private async Task FollowAsync(ChannelReader<WorkerEvent> events, int nodeCount, CancellationToken cancellationToken)
    {
        var progress = new ProgressTracker(nodeCount);
        var files = new List<WorkerFile>();
        var succeeded = false;
        var now = time.GetUtcNow();
        var lastActivity = now;
        var runDeadline = (run.StartedAt ?? run.DispatchedAt ?? now) + options.RunTimeout;
        DateTimeOffset? interruptDeadline = null;
        var nextHistoryPoll = now + HistoryPollInterval;
        if (_started)
        {
            worker.RunningRunId = run.Id;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            if (_wake.Task.IsCompleted)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            if (_lostReason is { } lost)
            {
                await LostAsync(lost, cancellationToken);
                return;
            }

            if (_cancelRequested && _interruptReason is null)
            {
                _interruptReason = "cancel";
                interruptDeadline = time.GetUtcNow() + options.InterruptTimeout;
                if (await TryStopOnWorkerAsync(cancellationToken) is { } finished)
                {
                    if (finished.History is not null)
                    {
                        await FinishFromHistoryAsync(finished.History, files, cancellationToken);
                    }
                    else
                    {
                        await runs.MarkCancelledAsync(run.Id, _promptId, "cancelled by request; removed from the worker's queue", cancellationToken);
                    }

                    return;
                }
            }

            var next = await NextAsync(events, cancellationToken);
            now = time.GetUtcNow();
            if (next is not null)
            {
                lastActivity = now;
                switch (next.Kind)
                {
                    case WorkerEventKind.Started:
                        await MarkStartedAsync(cancellationToken);
                        break;
                    case WorkerEventKind.Cached:
                        progress.Cached(next.Nodes);
                        break;
                    case WorkerEventKind.Executing:
                        await MarkStartedAsync(cancellationToken);
                        progress.Executing(next.Node);
                        break;
                    case WorkerEventKind.Progress:
                        await MarkStartedAsync(cancellationToken);
                        var fraction = progress.Update(next.Node, next.Value, next.Max);
                        await runs.ProgressAsync(run.Id, next.Node, next.Value, next.Max, fraction, cancellationToken);
                        break;
                    case WorkerEventKind.Preview:
                        await runs.PreviewAsync(run.Id, next.Image, next.ImageType ?? "image/jpeg", cancellationToken);
                        break;
                    case WorkerEventKind.Executed:
                        files.AddRange(next.Files);
                        break;
                    case WorkerEventKind.Succeeded:
                        succeeded = true;
                        break;
                    case WorkerEventKind.Failed:
                        await runs.FailAsync(run.Id, _promptId, Failure(next), cancellationToken);
                        return;
                    case WorkerEventKind.Interrupted:
                        await InterruptedAsync(cancellationToken);
                        return;
                    case WorkerEventKind.Done:
                        var history = await TryAsync(() => connection.GetHistoryAsync(_promptId, cancellationToken), cancellationToken);
                        if (history is not null)
                        {
                            await FinishFromHistoryAsync(history, files, cancellationToken);
                            return;
                        }

                        if (succeeded)
                        {
                            await CollectAsync(files, cancellationToken);
                            return;
                        }

                        break;
                }
            }

            // Deadlines are checked after every event too: a worker streaming progress can still overrun.

            if (_interruptReason is null && now >= runDeadline)
            {
                _interruptReason = "timeout";
                interruptDeadline = now + options.InterruptTimeout;
                LogTimedOut(logger, run.Id, worker.Name);
                await TryStopOnWorkerAsync(cancellationToken);
            }

            if (interruptDeadline is { } deadline && now >= deadline)
            {
                var message = _interruptReason == "cancel"
                    ? $"The worker did not confirm the cancel within {options.InterruptTimeout.TotalSeconds:0.#}s."
                    : $"The run exceeded Router:RunTimeout ({options.RunTimeout}) and the worker did not confirm the interrupt.";
                await runs.FailAsync(run.Id, _promptId, new RunFailure("timeout", message), cancellationToken);
                return;
            }

            if (_started && _interruptReason is null && now - lastActivity >= options.NoProgressTimeout)
            {
                var reason = $"no progress on {worker.Name} for {options.NoProgressTimeout.TotalSeconds:0.#}s";
                worker.ReportPassiveFailure(now + options.PassiveHealthReactivation, reason);
                await TryStopOnWorkerAsync(cancellationToken);
                await LostAsync(reason, cancellationToken);
                return;
            }

            if (!connection.IsConnected && connection.DisconnectedSince is { } since && now - since >= options.WorkerLostGrace)
            {
                await LostAsync($"lost the connection to {worker.Name} for {(now - since).TotalSeconds:0.#}s", cancellationToken);
                return;
            }

            if (now >= nextHistoryPoll)
            {
                nextHistoryPoll = now + HistoryPollInterval;
                if (now - lastActivity >= HistoryPollInterval
                    && await TryAsync(() => connection.GetHistoryAsync(_promptId, cancellationToken), cancellationToken) is { } polled)
                {
                    await FinishFromHistoryAsync(polled, files, cancellationToken);
                    return;
                }
            }
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
        await runs.MarkRunningAsync(run.Id, _promptId, cancellationToken);
    }

    /// <summary>
    /// Deletes the prompt from the worker's queue and interrupts it by prompt_id (both are no-ops
    /// when they do not apply). Returns a result when the prompt is already gone from the worker.
    /// </summary>
    private async Task<StopResult?> TryStopOnWorkerAsync(CancellationToken cancellationToken)
    {
        await TryAsync(async () => { await connection.DeleteQueuedAsync(_promptId, cancellationToken); return true; }, cancellationToken);
        await TryAsync(async () => { await connection.InterruptAsync(_promptId, cancellationToken); return true; }, cancellationToken);
        if (_started)
        {
            return null;
        }

        var queue = await TryAsync<WorkerQueue>(async () => await connection.GetQueueAsync(cancellationToken), cancellationToken);
        if (queue is null || queue.Contains(_promptId))
        {
            return null;
        }

        var history = await TryAsync(() => connection.GetHistoryAsync(_promptId, cancellationToken), cancellationToken);
        return new StopResult(history);
    }

    private async Task InterruptedAsync(CancellationToken cancellationToken)
    {
        switch (_interruptReason)
        {
            case "cancel":
                await runs.MarkCancelledAsync(run.Id, _promptId, "cancelled by request; interrupted on the worker", cancellationToken);
                break;
            case "timeout":
                await runs.FailAsync(run.Id, _promptId, new RunFailure("timeout", $"The run exceeded Router:RunTimeout ({options.RunTimeout}) and was interrupted."), cancellationToken);
                break;
            default:
                await runs.FailAsync(run.Id, _promptId, new RunFailure("interrupted", "The prompt was interrupted on the worker by someone else."), cancellationToken);
                break;
        }
    }

    private async Task FinishFromHistoryAsync(WorkerHistory history, List<WorkerFile> seen, CancellationToken cancellationToken)
    {
        if (history.Succeeded)
        {
            await CollectAsync(history.Files.Count > 0 ? [.. history.Files] : seen, cancellationToken);
        }
        else if (history.Interrupted)
        {
            await InterruptedAsync(cancellationToken);
        }
        else if (history.Error is { } error)
        {
            await runs.FailAsync(run.Id, _promptId, Failure(error), cancellationToken);
        }
        else
        {
            await runs.FailAsync(run.Id, _promptId, new RunFailure("execution_error", "The worker reports the prompt as failed without details."), cancellationToken);
        }
    }

    private async Task CollectAsync(List<WorkerFile> files, CancellationToken cancellationToken)
    {
        var produced = new List<RunOutput>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files.DistinctBy(f => (f.FileName, f.Subfolder, f.Type)))
        {
            var name = OutputNames.Sanitize(file.FileName);
            if (!names.Add(name))
            {
                name = OutputNames.Sanitize($"{file.NodeId}_{file.FileName}");
                names.Add(name);
            }

            try
            {
                await using var content = await connection.OpenFileAsync(file, cancellationToken);
                var size = await outputs.SaveAsync(run.Id, name, content, cancellationToken);
                produced.Add(new RunOutput(name, file.NodeId, OutputNames.ContentType(name), size));
            }
            catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
            {
                await runs.FailAsync(run.Id, _promptId, new RunFailure("output_unavailable", $"Could not fetch output '{file.FileName}' from {worker.Name}: {ex.Message}", file.NodeId), cancellationToken);
                return;
            }
        }

        await runs.SucceedAsync(run.Id, _promptId, produced, cancellationToken);
    }

    private async Task LostAsync(string reason, CancellationToken cancellationToken)
    {
        worker.Release(run.Id);
        LogLost(logger, run.Id, worker.Name, reason);
        if (run.Attempts >= options.MaxAttempts)
        {
            await runs.FailAsync(run.Id, _promptId, new RunFailure("worker_lost", $"{reason}; gave up after {run.Attempts} attempts (Router:MaxAttempts)."), cancellationToken);
        }
        else
        {
            await runs.RequeueAsync(run.Id, _promptId, reason, cancellationToken);
        }
    }

    private async Task<WorkerEvent?> NextAsync(ChannelReader<WorkerEvent> events, CancellationToken cancellationToken)
    {
        if (events.TryRead(out var ready))
        {
            return ready;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var read = events.WaitToReadAsync(stop.Token).AsTask();
        var delay = Task.Delay(Tick, time, stop.Token);
        await Task.WhenAny(read, delay, _wake.Task);
        await stop.CancelAsync();
        return events.TryRead(out var next) ? next : null;
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

    private static bool IsTransportFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is HttpRequestException or IOException or System.Text.Json.JsonException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static RunFailure Failure(WorkerEvent error) =>
        new("execution_error", error.Message ?? "ComfyUI reported an execution error.", error.Node, error.NodeType, error.ExceptionType);

    private static int CountNodes(JsonObject? graph) => graph?.Count ?? 0;

    [LoggerMessage(EventId = 1701, Level = LogLevel.Debug, Message = "Run {RunId} posted to {Worker} as prompt {PromptId} (attempt {Attempt})")]
    private static partial void LogPosted(ILogger logger, string runId, string worker, string promptId, int attempt);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "Run {RunId} resumed on {Worker} (prompt {PromptId})")]
    private static partial void LogResumed(ILogger logger, string runId, string worker, string promptId);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Warning, Message = "Run {RunId} timed out on {Worker}; interrupting")]
    private static partial void LogTimedOut(ILogger logger, string runId, string worker);

    [LoggerMessage(EventId = 1704, Level = LogLevel.Warning, Message = "Run {RunId} lost its worker {Worker}: {Reason}")]
    private static partial void LogLost(ILogger logger, string runId, string worker, string reason);

    private sealed record StopResult(WorkerHistory? History);
}
