using System.Collections.Concurrent;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// Prompts of attempts the router gave up on (worker hung, socket lost, timed out) that may still be
/// queued or running on their worker. A requeued run must not also run there, so each is deleted
/// from the worker's queue or interrupted by prompt_id, at once and then again every
/// <see cref="RouterOptions.AbandonedPromptRetryInterval"/> while the worker does not answer or
/// still has it, until it is gone or <see cref="RouterOptions.AbandonedPromptWindow"/> has passed.
/// Whatever the worker later reports for these prompt ids is ignored: the run record names the
/// current attempt's prompt id, and only that one can change the run. The list is kept in the
/// router's database and reloaded at start: a worker unreachable when the router stopped may come
/// back later still holding the prompt.
/// </summary>
internal sealed partial class AbandonedPrompts(
    IAbandonedPromptStore store,
    WorkerConnections connections,
    WorkerRegistry registry,
    RunRecovery recovery,
    IOptions<RouterOptions> options,
    TimeProvider time,
    ILogger<AbandonedPrompts> logger) : BackgroundService, IAbandonedPrompts
{
    private readonly RouterOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, AbandonedPrompt> _entries = new(StringComparer.Ordinal);
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Prompt ids still being removed from their workers.</summary>
    public IReadOnlyCollection<string> Pending => [.. _entries.Keys];

    /// <summary>
    /// Remembers the prompt, durably before returning (the caller requeues the run next, and a crash
    /// in between must not lose the prompt), and starts removing it from <paramref name="worker"/>.
    /// </summary>
    public async Task AddAsync(Uri worker, string promptId, string runId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var entry = new AbandonedPrompt(worker, promptId, runId, now + _options.AbandonedPromptWindow) { HoldUntil = now + _options.WorkerRequestTimeout };
        if (!_entries.TryAdd(promptId, entry))
        {
            return;
        }

        try
        {
            await store.AddAsync(entry, cancellationToken);
        }
        catch (StorageException ex)
        {
            // Still chased while this process lives; only a restart would forget it.
            LogPersistFailed(runId, promptId, ex);
        }

        _wake.TrySetResult();
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Reloads what the previous process was still chasing. A prompt that is again the current attempt
    /// of a run on a worker was abandoned but its run not yet requeued when the router stopped: the
    /// restart resumes that run, so the prompt is not removed.
    /// </summary>
    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var current = recovery.OnWorkers.Where(r => r.PromptId is not null).Select(r => r.PromptId!).ToHashSet(StringComparer.Ordinal);
        var done = new List<string>();
        foreach (var entry in await store.ListAsync(cancellationToken))
        {
            if (current.Contains(entry.PromptId) || now >= entry.GiveUpAt)
            {
                done.Add(entry.PromptId);
            }
            else
            {
                _entries.TryAdd(entry.PromptId, entry with { HoldUntil = now + _options.WorkerRequestTimeout });
            }
        }

        await store.RemoveAsync(done, cancellationToken);
        if (!_entries.IsEmpty)
        {
            LogReloaded(_entries.Count);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A prompt landing late (a POST still in flight when its attempt was given up) shows as a queue
        // change on its worker: look at once, so it is deleted before the worker gets to start it.
        connections.QueueChanged += (_, worker) =>
        {
            if (_entries.Values.Any(e => e.Worker == worker))
            {
                _wake.TrySetResult();
            }
        };

        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = _wake.Task;
            if (wake.IsCompleted)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            try
            {
                try
                {
                    var finished = await Task.WhenAll(_entries.Values.GroupBy(entry => entry.Worker).Select(group => SweepAsync(group.Key, [.. group], stoppingToken)));
                    await ForgetAsync([.. finished.SelectMany(f => f)], stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    // A failed round must not end the loop (and with it the host): the next round tries again.
                    LogSweepFailed(ex);
                }

                await Task.WhenAny(_wake.Task, Task.Delay(_options.AbandonedPromptRetryInterval, time, stoppingToken));
                stoppingToken.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One try for the abandoned prompts of one worker, from one /queue snapshot: the queued ones are
    /// deleted first (so the worker does not start one of them when the running one is interrupted),
    /// then the running one is interrupted. Returns the entries that are done with: gone from the
    /// worker, past their window, or on a worker that is no longer configured.
    /// </summary>
    private async Task<IReadOnlyList<AbandonedPrompt>> SweepAsync(Uri worker, IReadOnlyList<AbandonedPrompt> entries, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (registry.Find(worker.ToString()) is null)
        {
            foreach (var entry in entries)
            {
                LogWorkerGone(entry.RunId, entry.PromptId, worker);
            }

            return entries;
        }

        // The worker's session exists once connections are started (right after start-up).
        if (connections.Get(worker) is not { } session)
        {
            return [];
        }

        if (session.State == ComfySessionState.Stopped)
        {
            return entries;
        }

        var done = entries.Where(e => now >= e.GiveUpAt).ToList();
        var live = entries.Where(e => now < e.GiveUpAt).ToList();
        if (live.Count == 0)
        {
            return done;
        }

        try
        {
            var client = session.Client;
            var queue = await client.GetQueueAsync(cancellationToken);
            var queued = live.Where(e => queue.Pending.Any(i => i.PromptId == e.PromptId)).ToList();
            if (queued.Count > 0)
            {
                await client.DeleteFromQueueAsync([.. queued.Select(e => e.PromptId)], cancellationToken);
                foreach (var entry in queued)
                {
                    LogDeleted(entry.RunId, entry.PromptId, client.BaseAddress);
                }
            }

            foreach (var entry in live.Where(e => queue.Running.Any(i => i.PromptId == e.PromptId)))
            {
                await client.InterruptAsync(entry.PromptId, cancellationToken);
                LogInterrupted(entry.RunId, entry.PromptId, client.BaseAddress);
            }

            // Gone, and no POST of it can still be on its way.
            done.AddRange(live.Where(e => !queue.Contains(e.PromptId) && now >= e.HoldUntil));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or ComfyHttpException or IOException or System.Text.Json.JsonException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The worker does not answer yet: try again next round.
        }
        catch (ObjectDisposedException)
        {
            // The worker was removed meanwhile.
            return entries;
        }

        return done;
    }

    private async Task ForgetAsync(IReadOnlyList<AbandonedPrompt> entries, CancellationToken cancellationToken)
    {
        var removed = entries.Where(entry => _entries.TryRemove(new KeyValuePair<string, AbandonedPrompt>(entry.PromptId, entry))).Select(e => e.PromptId).ToList();
        try
        {
            await store.RemoveAsync(removed, cancellationToken);
        }
        catch (StorageException ex)
        {
            // Left in the table: the next start finds them gone from their worker (or past their window).
            LogForgetFailed(removed.Count, ex);
        }
    }

    [LoggerMessage(EventId = EventIds.AbandonedPromptsDeleted, Level = LogLevel.Information, Message = "Run {RunId}: deleted abandoned prompt {PromptId} from the queue of {Worker}")]
    private partial void LogDeleted(string runId, string promptId, Uri worker);

    [LoggerMessage(EventId = EventIds.AbandonedPromptsInterrupted, Level = LogLevel.Information, Message = "Run {RunId}: interrupting abandoned prompt {PromptId} on {Worker}")]
    private partial void LogInterrupted(string runId, string promptId, Uri worker);

    [LoggerMessage(EventId = EventIds.AbandonedPromptsReloaded, Level = LogLevel.Information, Message = "Reloaded {Count} abandoned prompts to remove from their workers")]
    private partial void LogReloaded(int count);

    [LoggerMessage(EventId = EventIds.AbandonedPromptsWorkerGone, Level = LogLevel.Warning, Message = "Run {RunId}: dropping abandoned prompt {PromptId}; worker {Worker} is no longer configured")]
    private partial void LogWorkerGone(string runId, string promptId, Uri worker);

    [LoggerMessage(EventId = EventIds.AbandonedPromptsPersistFailed, Level = LogLevel.Warning, Message = "Run {RunId}: could not store abandoned prompt {PromptId}; a restart would forget it")]
    private partial void LogPersistFailed(string runId, string promptId, Exception exception);

    [LoggerMessage(EventId = EventIds.AbandonedPromptsSweepFailed, Level = LogLevel.Warning, Message = "Removing abandoned prompts from their workers failed; retrying")]
    private partial void LogSweepFailed(Exception exception);

    [LoggerMessage(EventId = EventIds.AbandonedPromptsForgetFailed, Level = LogLevel.Warning, Message = "Could not delete {Count} finished abandoned prompts from the database")]
    private partial void LogForgetFailed(int count, Exception exception);
}
