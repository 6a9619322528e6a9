namespace ComfyOperator.Comfy.Workflows;

/// <summary>One problem found by <see cref="WorkflowGraph.Validate"/>. <see cref="Code"/> is one of <see cref="WorkflowIssueCodes"/>.</summary>
public sealed record WorkflowIssue(string Code, string? NodeId, string? InputName, string Message)
{
    public override string ToString() => Message;
}
