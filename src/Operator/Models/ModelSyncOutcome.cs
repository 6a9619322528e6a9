namespace ComfyOperator.Operator.Models;

internal enum ModelSyncOutcome
{
    /// <summary>Already in the cache (and verified).</summary>
    Present,

    /// <summary>Downloaded (possibly resumed) and verified by this process.</summary>
    Downloaded,

    /// <summary>Another pod downloaded it while this one waited on the lock.</summary>
    DownloadedByPeer,

    Failed,
}
