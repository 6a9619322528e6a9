namespace ComfyOperator.Router.Runs;

/// <summary>A page of runs, newest first; <see cref="NextBefore"/> is the sequence to continue below, if any.</summary>
internal sealed record RunPage(IReadOnlyList<RunRecord> Runs, long? NextBefore);
