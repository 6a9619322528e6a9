using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Hosting;

/// <summary>
/// Gives the GC's spare memory back to the system once the router has been quiet for half a minute. The
/// GC keeps the memory it committed for the busy hours (free regions, a full gen0 budget), and an idle
/// router with a thousand connected workers would hold about twice its live heap. Every
/// <see cref="CheckInterval"/> the router's allocations are looked at: after <see cref="QuietIntervals"/>
/// quiet intervals in a row (under <see cref="QuietBytes"/> allocated in each) it runs one compacting
/// <see cref="GCCollectionMode.Aggressive"/> collection, which decommits everything the live objects do
/// not need. It runs again only after a busy interval, or when the GC has committed
/// <see cref="RegrowthBytes"/> more since while still quiet.
/// </summary>
internal sealed partial class IdleMemoryTrimmer(TimeProvider time, ILogger<IdleMemoryTrimmer> logger) : BackgroundService
{
    internal static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// An interval with less allocated than this is quiet: an idle router with 1,000 workers allocates
    /// 30–600 KB/s (keep-alive pings, probes, the JIT's tier-up), one run about 110 KB.
    /// </summary>
    internal const long QuietBytes = 8L << 20;

    internal const int QuietIntervals = 3;

    internal const long RegrowthBytes = 16L << 20;

    private long? _allocated;
    private int _quietIntervals;
    private long? _committedAfterTrim;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Check(GC.GetTotalAllocatedBytes());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One look at the interval since the last, given the bytes the process has allocated so far; true when it trimmed.</summary>
    internal bool Check(long allocated)
    {
        // The first look has nothing to compare with: not quiet.
        var quiet = allocated - _allocated < QuietBytes;
        _allocated = allocated;
        if (!quiet)
        {
            _quietIntervals = 0;
            _committedAfterTrim = null;
            return false;
        }

        if (++_quietIntervals < QuietIntervals)
        {
            return false;
        }

        var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        if (_committedAfterTrim is { } after && before - after < RegrowthBytes)
        {
            return false;
        }

        var clock = Stopwatch.StartNew();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        _committedAfterTrim = committed;
        LogTrimmed(logger, before >> 20, committed >> 20, clock.Elapsed.TotalMilliseconds);
        return true;
    }

    [LoggerMessage(EventId = EventIds.IdleMemoryTrimmed, Level = LogLevel.Debug, Message = "Idle: the GC gave back its spare memory, {Before} MB committed before, {After} MB after, in {Milliseconds:0.0} ms")]
    private static partial void LogTrimmed(ILogger logger, long before, long after, double milliseconds);
}
