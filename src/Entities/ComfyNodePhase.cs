namespace ComfyOperator.Entities;

/// <summary>Values of <c>ComfyNode.status.phase</c>.</summary>
public static class ComfyNodePhase
{
    /// <summary>Accepted; no pod yet, or the pod is not scheduled / still pulling or syncing models.</summary>
    public const string Pending = "Pending";

    /// <summary>The pod (or external URL) exists but ComfyUI has not answered a probe yet.</summary>
    public const string Starting = "Starting";

    /// <summary>Answers probes, nothing queued: ready for work.</summary>
    public const string Idle = "Idle";

    /// <summary>Answers probes, prompts running or queued.</summary>
    public const string Busy = "Busy";

    /// <summary>Stopped answering for <c>probe.failureThreshold</c> probes in a row.</summary>
    public const string Offline = "Offline";

    /// <summary>The pod failed (crashed container, failed model sync) and is being replaced.</summary>
    public const string Failed = "Failed";

    public static IReadOnlyList<string> All { get; } = [Pending, Starting, Idle, Busy, Offline, Failed];
}
