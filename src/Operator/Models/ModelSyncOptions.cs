namespace ComfyOperator.Operator.Models;

/// <summary>Knobs of <see cref="ModelSynchronizer"/>; defaults suit multi-GB files on a shared volume.</summary>
internal sealed record ModelSyncOptions
{
    /// <summary>Attempts per file; each resumes where the last one stopped.</summary>
    public int Attempts { get; init; } = 5;

    /// <summary>Pause between attempts (doubles each time).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A read that brings no byte for this long fails the attempt.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a lock holder touches its lock file, and a waiter checks it.</summary>
    public TimeSpan LockHeartbeat { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A lock file not touched for this long belongs to a dead pod and is taken over.</summary>
    public TimeSpan StaleLockAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest wait for another pod's download of the same file.</summary>
    public TimeSpan LockWaitLimit { get; init; } = TimeSpan.FromHours(2);
}
