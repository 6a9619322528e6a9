namespace ComfyOperator.Router.Workers;

/// <summary>A finished prompt from <c>/history/{prompt_id}</c>: outcome, error details and output files.</summary>
internal sealed record WorkerHistory(bool Succeeded, bool Interrupted, WorkerEvent? Error, IReadOnlyList<WorkerFile> Files);
