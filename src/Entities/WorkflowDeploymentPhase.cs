namespace ComfyOperator.Entities;

/// <summary>Values of <c>WorkflowDeployment.status.phase</c>.</summary>
public static class WorkflowDeploymentPhase
{
    /// <summary>Valid, but no worker is ready yet.</summary>
    public const string Pending = "Pending";

    /// <summary>Valid and every desired worker is ready.</summary>
    public const string Ready = "Ready";

    /// <summary>Valid, some but not all desired workers are ready.</summary>
    public const string Degraded = "Degraded";

    /// <summary>The workflow or its inputs do not validate; see <c>status.validationErrors</c>.</summary>
    public const string Invalid = "Invalid";

    public static IReadOnlyList<string> All { get; } = [Pending, Ready, Degraded, Invalid];
}
