namespace ComfyOperator.Operator.Controllers;

/// <summary>How far a WorkflowDeployment's template change has reached its owned nodes.</summary>
/// <param name="Updated">Owned nodes that carry the current template.</param>
/// <param name="Total">Owned nodes.</param>
/// <param name="Rolling">A node is still outdated, just updated, or draining its old pod.</param>
internal sealed record RolloutProgress(int Updated, int Total, bool Rolling);
