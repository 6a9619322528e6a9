using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Hosting;

/// <summary>
/// Gives the GC's spare memory back to the system once the router has been quiet for ten seconds. The
/// GC keeps the memory it committed for the busy hours (free regions, a full gen0 budget), and an idle
/// router with a thousand connected workers would hold about twice its live heap. Every
/// <see cref="CheckInterval"/> the router's allocations are looked at: after <see cref="QuietIntervals"/>
/// quiet intervals in a row (under <see cref="QuietBytes"/> allocated in each) it runs one compacting
/// <see cref="GCCollectionMode.Aggressive"/> collection, which decommits everything the live objects do
/// not need. It runs again only after a busy interval, or when the working set has grown by
/// <see cref="RegrowthBytes"/> since while still quiet (the GC's gen0 budget filling again, connections
/// opened and closed by probes: a slow climb that no busy interval ends). On Linux with glibc it then gives back the
/// native heap's free pages too (<c>malloc_trim</c>): memory that SQLite, the JIT and the sockets freed
/// stays in glibc's heaps otherwise, about 12 MB at 1,000 idle workers after the runs.
/// </summary>
internal sealed partial class IdleMemoryTrimmer(TimeProvider time, ILogger<IdleMemoryTrimmer> logger) : BackgroundService
{
    internal static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An interval with less allocated than this is quiet: an idle router with 1,000 workers allocates
    /// 30–600 KB/s (keep-alive pings, probes, the JIT's tier-up), one run about 110 KB.
    /// </summary>
    internal const long QuietBytes = 4L << 20;

    /// <summary>
    /// Quiet intervals in a row before a trim. A burst of reads (a model refresh over every worker)
    /// leaves the GC's budget filled: trimming two intervals later keeps that from lasting.
    /// </summary>
    internal const int QuietIntervals = 2;

    /// <summary>Growth of the working set after a trim that, while quiet, calls for another (a trim costs about 40 ms at 1,000 workers).</summary>
    internal const long RegrowthBytes = 8L << 20;

    private static bool s_nativeTrim = OperatingSystem.IsLinux();

    private long? _allocated;
    private int _quietIntervals;
    private long? _workingSetAfterTrim;

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
            _workingSetAfterTrim = null;
            return false;
        }

        if (++_quietIntervals < QuietIntervals)
        {
            return false;
        }

        var workingSet = Environment.WorkingSet;
        if (_workingSetAfterTrim is { } after && workingSet - after < RegrowthBytes)
        {
            return false;
        }

        var clock = Stopwatch.StartNew();
        var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        TrimNativeHeap();
        _workingSetAfterTrim = Environment.WorkingSet;
        LogTrimmed(logger, before >> 20, committed >> 20, workingSet >> 20, _workingSetAfterTrim.Value >> 20, clock.Elapsed.TotalMilliseconds);
        return true;
    }

    private static void TrimNativeHeap()
    {
        if (!s_nativeTrim)
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): its heaps stay as they are.
            s_nativeTrim = false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LoggerMessage(EventId = EventIds.IdleMemoryTrimmed, Level = LogLevel.Debug, Message = "Idle: spare memory given back, GC committed {Before} MB before and {After} MB after, working set {WorkingSetBefore} MB before and {WorkingSetAfter} MB after, in {Milliseconds:0.0} ms")]
    private static partial void LogTrimmed(ILogger logger, long before, long after, long workingSetBefore, long workingSetAfter, double milliseconds);
}
