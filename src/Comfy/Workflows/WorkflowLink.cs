namespace ComfyOperator.Comfy.Workflows;

/// <summary>A link input <c>["node id", output index]</c>.</summary>
public sealed record WorkflowLink(string NodeId, int OutputIndex);
