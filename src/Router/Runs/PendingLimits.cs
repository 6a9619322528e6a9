namespace ComfyOperator.Router.Runs;

/// <summary>
/// The most runs stored as queued that the new run's owner (<c>Router:MaxPendingPerKey</c>) and its workflow
/// (<c>spec.limits.maxPending</c>) may have when it is inserted; null = no limit. A limit applies only to a
/// run that has an owner, or a workflow.
/// </summary>
internal sealed record PendingLimits(int? PerOwner, int? PerDeployment)
{
    public static readonly PendingLimits None = new(null, null);
}
