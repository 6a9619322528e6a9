namespace ComfyOperator.Kubernetes.LeaderElection;

/// <summary>Lease lock and timings (client-go / KubeOps defaults: 15 s / 10 s / 2 s).</summary>
public sealed record LeaderElectionConfig
{
    public required string LockNamespace { get; init; }

    /// <summary>The Lease name, e.g. <c>comfy-operator-leader</c>.</summary>
    public required string LockName { get; init; }

    /// <summary>This candidate's identity (the pod name).</summary>
    public required string Identity { get; init; }

    /// <summary>How long a non-leader waits, after last seeing the lease change, before taking it.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps trying to renew before it gives up leading.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time between attempts (×[1, 1.2] jitter while acquiring).</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>On cancellation, clear the holder so another candidate takes over at once.</summary>
    public bool ReleaseOnCancel { get; init; } = true;

    /// <summary>Throws when the timings break LeaseDuration &gt; RenewDeadline &gt; 1.2 × RetryPeriod.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(LockNamespace);
        ArgumentException.ThrowIfNullOrEmpty(LockName);
        ArgumentException.ThrowIfNullOrEmpty(Identity);
        if (LeaseDuration <= RenewDeadline)
        {
            throw new ArgumentException("LeaseDuration must be greater than RenewDeadline.");
        }

        if (RenewDeadline <= RetryPeriod * 1.2)
        {
            throw new ArgumentException("RenewDeadline must be greater than 1.2 × RetryPeriod.");
        }

        if (RetryPeriod <= TimeSpan.Zero)
        {
            throw new ArgumentException("RetryPeriod must be positive.");
        }
    }
}
