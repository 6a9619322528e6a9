namespace ComfyOperator.Router.Workflows;

/// <summary>Where a workflow definition came from.</summary>
internal static class WorkflowSourceNames
{
    public const string Preset = "preset";
    public const string File = "file";
    public const string Kubernetes = "kubernetes";
}
