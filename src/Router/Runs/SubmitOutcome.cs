namespace ComfyOperator.Router.Runs;

internal enum SubmitOutcome
{
    Created,
    Replayed,
    PendingLimitReached,
    OwnerLimitReached,
    DeploymentLimitReached,
}
