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

    /// <summary>How long the loop waits between passes: the setting, or less when HistoryMaxAge asks for finer steps.</summary>
    public TimeSpan Interval => _options.HistoryMaxAge > TimeSpan.Zero
        ? TimeSpan.FromTicks(Math.Min(_options.HistoryPruneInterval.Ticks, Math.Max(_options.HistoryMaxAge.Ticks / 10, MinimumAgeDerivedInterval.Ticks)))
        : _options.HistoryPruneInterval;

    /// <summary>Asks for a pass soon (a run finished); cheap and never blocks.</summary>
    public void Request()
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
            var before = _options.HistoryMaxAge > TimeSpan.Zero ? time.GetUtcNow() - _options.HistoryMaxAge : (DateTimeOffset?)null;
            var pruned = await store.PruneAsync(_options.HistoryLimit, before, cancellationToken);
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
            while (!stoppingToken.IsCancellationRequested)
            {
                await PruneOnceAsync(stoppingToken);
                await WaitForNextPassAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task WaitForNextPassAsync(CancellationToken stoppingToken)
    {
        using var timer = new CancellationTokenSource(Interval, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
        try
        {
            await _requested.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            // The interval passed without a finished run: prune anyway (age-based retention, retries).
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
