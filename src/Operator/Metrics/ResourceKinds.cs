namespace ComfyOperator.Operator.Metrics;

/// <summary>The <c>kind</c> label of the controller metrics and log scopes.</summary>
internal static class ResourceKinds
{
    public const string ComfyNode = "ComfyNode";
    public const string WorkflowDeployment = "WorkflowDeployment";
}
