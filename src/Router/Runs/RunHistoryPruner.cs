using System.Collections.Concurrent;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Outputs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// Removes finished runs beyond <see cref="RouterOptions.HistoryLimit"/> or older than
/// <see cref="RouterOptions.HistoryMaxAge"/>, with their outputs. It runs once at start, on a timer
/// (so an idle router still forgets old runs) and soon after a run finishes. It is apart from the run
/// lifecycle on purpose: a store or output-store error here is logged and retried on the next pass,
/// and never reaches the dispatch that finished a run.
/// </summary>
internal sealed partial class RunHistoryPruner(
    IRunStore store,
    IOutputStore outputs,
    IOptions<RouterOptions> options,
    TimeProvider time,
    ILogger<RunHistoryPruner> logger) : BackgroundService
{
    /// <summary>Never check more often than this on behalf of HistoryMaxAge alone (a tiny age would otherwise spin).</summary>
    private static readonly TimeSpan MinimumAgeDerivedInterval = TimeSpan.FromSeconds(1);

    private readonly RouterOptions _options = options.Value;
    private readonly SemaphoreSlim _requested = new(0, 1);

    /// <summary>Runs already removed from the store whose outputs could not be deleted yet.</summary>
    private readonly ConcurrentDictionary<string, byte> _outputsLeft = new(StringComparer.Ordinal);

    /// <summary>Finished runs the store held after the last full pass; -1 until one succeeded.</summary>
    private long _finishedAfterPass = -1;

    /// <summary>Runs finished (<see cref="Request"/> calls) since the last full pass began.</summary>
    private long _finishedSincePass;

    /// <summary>How long the loop waits between passes: the setting, or less when HistoryMaxAge asks for finer steps.</summary>
    public TimeSpan Interval => _options.HistoryMaxAge > TimeSpan.Zero
        ? TimeSpan.FromTicks(Math.Min(_options.HistoryPruneInterval.Ticks, Math.Max(_options.HistoryMaxAge.Ticks / 10, MinimumAgeDerivedInterval.Ticks)))
        : _options.HistoryPruneInterval;

    /// <summary>Asks for a pass soon (a run finished); cheap and never blocks.</summary>
    public void Request()
    {
        Interlocked.Increment(ref _finishedSincePass);
        Signal();
    }

    /// <summary>Runs deleted from the store elsewhere (<c>POST /history</c>): their outputs go on the next pass, retried like pruned runs'.</summary>
    public void DeleteOutputs(IEnumerable<string> runIds)
    {
        var any = false;
        foreach (var id in runIds)
        {
            any |= _outputsLeft.TryAdd(id, 0);
        }

        if (any)
        {
            Signal();
        }
    }

    private void Signal()
    {
        if (_requested.CurrentCount == 0)
        {
            try
            {
                _requested.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another finisher signalled at the same moment; one pass serves both.
            }
        }
    }

    /// <summary>One pass; returns false when something failed (logged) and the next pass should try again.</summary>
    public async Task<bool> PruneOnceAsync(CancellationToken cancellationToken)
    {
        var ok = true;
        try
        {
            // Taken before the store counts, so a run finishing meanwhile is counted twice (an early pass), never missed.
            Interlocked.Exchange(ref _finishedSincePass, 0);
            Interlocked.Exchange(ref _finishedAfterPass, -1);
            var before = _options.HistoryMaxAge > TimeSpan.Zero ? time.GetUtcNow() - _options.HistoryMaxAge : (DateTimeOffset?)null;
            var pruned = await store.PruneAsync(_options.HistoryLimit, before, cancellationToken);
            Interlocked.Exchange(ref _finishedAfterPass, await store.CountFinishedAsync(cancellationToken));
            foreach (var id in pruned)
            {
                _outputsLeft.TryAdd(id, 0);
            }

            if (pruned.Count > 0)
            {
                LogPruned(logger, pruned.Count);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPruneFailed(logger, ex);
            ok = false;
        }

        // The runs are gone from the store already, so their outputs are remembered until deleted.
        foreach (var id in _outputsLeft.Keys)
        {
            try
            {
                await outputs.DeleteRunAsync(id, cancellationToken);
                _outputsLeft.TryRemove(id, out _);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogOutputDeleteFailed(logger, id, ex);
                ok = false;
            }
        }

        return ok;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var ok = await PruneOnceAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var requested = await WaitForNextPassAsync(stoppingToken);
                if (!requested || !ok || !CanSkipRequestedPass())
                {
                    ok = await PruneOnceAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// A finished run asked for a pass, but the store held fewer finished runs than the limit after
    /// the last pass and too few have finished since to reach it, and no age bound applies: the pass
    /// would remove nothing, so the store is not asked (with a large HistoryLimit, most finishes).
    /// The timed pass still runs and counts again.
    /// </summary>
    private bool CanSkipRequestedPass() =>
        _options.HistoryMaxAge <= TimeSpan.Zero
        && _outputsLeft.IsEmpty
        && Interlocked.Read(ref _finishedAfterPass) is >= 0 and var held
        && held + Interlocked.Read(ref _finishedSincePass) <= _options.HistoryLimit;

    /// <summary>Waits for a finished run or the interval; true when a finished run asked.</summary>
    private async Task<bool> WaitForNextPassAsync(CancellationToken stoppingToken)
    {
        using var timer = new CancellationTokenSource(Interval, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
        try
        {
            await _requested.WaitAsync(linked.Token);
            return true;
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            // The interval passed without a finished run: prune anyway (age-based retention, retries).
            return false;
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _requested.Dispose();
    }

    [LoggerMessage(EventId = EventIds.RunHistoryPrunerPruned, Level = LogLevel.Debug, Message = "Pruned {Count} finished runs")]
    private static partial void LogPruned(ILogger logger, int count);

    [LoggerMessage(EventId = EventIds.RunHistoryPrunerPruneFailed, Level = LogLevel.Warning, Message = "Pruning finished runs failed; will retry on the next pass")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.RunHistoryPrunerOutputDeleteFailed, Level = LogLevel.Warning, Message = "Deleting the outputs of pruned run {RunId} failed; will retry on the next pass")]
    private static partial void LogOutputDeleteFailed(ILogger logger, string runId, Exception exception);
}
