namespace ComfyOperator.Entities;

/// <summary>Condition types of both kinds (<c>status.conditions[].type</c>).</summary>
public static class ConditionTypes
{
    /// <summary>ComfyNode: healthy and its models are in place; the router may schedule onto it.</summary>
    public const string Ready = "Ready";

    /// <summary>ComfyNode and WorkflowDeployment: the declared model files are in the cache.</summary>
    public const string ModelsReady = "ModelsReady";

    /// <summary>ComfyNode: the last probes succeeded.</summary>
    public const string Healthy = "Healthy";

    /// <summary>WorkflowDeployment: the graph, inputs and outputs validate.</summary>
    public const string WorkflowValid = "WorkflowValid";

    /// <summary>WorkflowDeployment: at least one worker is ready to serve the workflow.</summary>
    public const string Available = "Available";

    /// <summary>WorkflowDeployment with autoscaling: True while the operator can scale it (it reads the demand), with the last decision as reason.</summary>
    public const string Scaling = "Scaling";

    /// <summary>ComfyNode: True while its outdated pod is drained before it is replaced (the router sends it nothing new).</summary>
    public const string Draining = "Draining";

    /// <summary>WorkflowDeployment: True while a template change rolls through its nodes, with how many are updated.</summary>
    public const string RollingUpdate = "RollingUpdate";
}
