namespace ComfyOperator.Entities;

/// <summary>Label keys the operator puts on what it creates, and reads back to find it.</summary>
public static class EntityLabels
{
    /// <summary><c>app.kubernetes.io/managed-by: comfy-operator</c> on every object the operator creates.</summary>
    public const string ManagedBy = "app.kubernetes.io/managed-by";

    /// <summary><c>app.kubernetes.io/name: comfyui</c> on ComfyUI pods and services.</summary>
    public const string Name = "app.kubernetes.io/name";

    /// <summary>On pods, services and config maps: the ComfyNode they belong to.</summary>
    public const string Node = EntityApi.Group + "/node";

    /// <summary>On ComfyNodes stamped out by a WorkflowDeployment: the deployment's name.</summary>
    public const string WorkflowDeployment = EntityApi.Group + "/workflow-deployment";

    /// <summary>The value of <see cref="ManagedBy"/>.</summary>
    public const string ManagedByValue = EntityApi.OperatorName;

    /// <summary>The value of <see cref="Name"/> on ComfyUI pods.</summary>
    public const string NameValue = "comfyui";
}
