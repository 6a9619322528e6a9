namespace ComfyOperator.Router.Runs;

internal sealed record SubmitResult(SubmitOutcome Outcome, RunRecord? Run);
