namespace ComfyOperator.Entities;

/// <summary>Names of the built-in graphs a WorkflowDeployment can use instead of an inline one.</summary>
public static class WorkflowPresets
{
    public const string Sd15 = "sd15";
    public const string Sdxl = "sdxl";
    public const string Flux = "flux";
}
