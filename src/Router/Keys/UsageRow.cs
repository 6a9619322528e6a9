namespace ComfyOperator.Router.Keys;

/// <summary>Runs of one owner on one workflow in a window.</summary>
/// <param name="Owner">API key id (<c>key-…</c>), <c>user-NAME</c>, or null (auth off).</param>
/// <param name="Workflow">The workflow (WorkflowDeployment or preset); null for raw graphs.</param>
/// <param name="Runs">Runs submitted in the window.</param>
/// <param name="Failures">Of those, the ones that failed.</param>
/// <param name="GpuSeconds">Time those runs spent on a worker: from started (or dispatched) to finished.</param>
internal sealed record UsageRow(string? Owner, string? Workflow, long Runs, long Failures, double GpuSeconds);
