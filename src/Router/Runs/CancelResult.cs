namespace ComfyOperator.Router.Runs;

internal sealed record CancelResult(CancelOutcome Outcome, RunRecord? Run);
