using System.Collections.Concurrent;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Router.Configuration;
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
/// current attempt's prompt id, and only that one can change the run.
/// </summary>
internal sealed partial class AbandonedPrompts(IOptions<RouterOptions> options, TimeProvider time, ILogger<AbandonedPrompts> logger) : BackgroundService
{
    private readonly RouterOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Prompt ids still being removed from their workers.</summary>
    public IReadOnlyCollection<string> Pending => [.. _entries.Keys];

    public void Add(ComfySession session, string promptId, string runId)
    {
        if (_entries.TryAdd(promptId, new Entry(session, promptId, runId, time.GetUtcNow() + _options.AbandonedPromptWindow)))
        {
            _wake.TrySetResult();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = _wake.Task;
            if (wake.IsCompleted)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            await Task.WhenAll(_entries.Values.GroupBy(entry => entry.Session).Select(group => SweepAsync(group.Key, [.. group], stoppingToken)));
            try
            {
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
    /// then the running one is interrupted; prompts the worker no longer has are done with.
    /// </summary>
    private async Task SweepAsync(ComfySession session, IReadOnlyList<Entry> entries, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (session.State == ComfySessionState.Stopped)
        {
            Forget(entries);
            return;
        }

        Forget(entries.Where(e => now >= e.GiveUpAt));
        var live = entries.Where(e => now < e.GiveUpAt).ToList();
        if (live.Count == 0)
        {
            return;
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

            Forget(live.Where(e => !queue.Contains(e.PromptId)));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or ComfyHttpException or IOException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The worker does not answer yet: try again next round.
        }
        catch (ObjectDisposedException)
        {
            // The worker was removed meanwhile.
            Forget(entries);
        }
    }

    private void Forget(IEnumerable<Entry> entries)
    {
        foreach (var entry in entries)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(entry.PromptId, entry));
        }
    }

    [LoggerMessage(EventId = 1611, Level = LogLevel.Information, Message = "Run {RunId}: deleted abandoned prompt {PromptId} from the queue of {Worker}")]
    private partial void LogDeleted(string runId, string promptId, Uri worker);

    [LoggerMessage(EventId = 1612, Level = LogLevel.Information, Message = "Run {RunId}: interrupting abandoned prompt {PromptId} on {Worker}")]
    private partial void LogInterrupted(string runId, string promptId, Uri worker);

    internal sealed record Entry(ComfySession Session, string PromptId, string RunId, DateTimeOffset GiveUpAt);
}
