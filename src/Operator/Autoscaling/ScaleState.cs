namespace ComfyOperator.Operator.Autoscaling;

/// <summary>
/// What the autoscaler remembers between looks at one WorkflowDeployment: since when the demand has
/// called for more replicas (<see cref="UpSince"/>) or fewer (<see cref="SurplusSince"/>). Kept in the
/// operator's memory: a restart starts both windows again, which only delays a change.
/// </summary>
internal sealed record ScaleState(DateTimeOffset? UpSince, DateTimeOffset? SurplusSince)
{
    public static readonly ScaleState Empty = new(null, null);
}
