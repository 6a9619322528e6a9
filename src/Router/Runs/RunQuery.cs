namespace ComfyOperator.Router.Runs;

/// <summary>Which runs a listing returns: every filter that is set must match.</summary>
/// <param name="Status">The run's status.</param>
/// <param name="Workflow">The workflow's name (WorkflowDeployment or preset); raw graphs have none.</param>
/// <param name="Owner">The caller that submitted it (<c>key-…</c> or <c>user-…</c>).</param>
internal sealed record RunQuery(RunStatus? Status = null, string? Workflow = null, string? Owner = null)
{
    public static readonly RunQuery All = new();
}
