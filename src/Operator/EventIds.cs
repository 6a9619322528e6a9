namespace ComfyOperator.Operator;

/// <summary>
/// The log event ids of this assembly, all in 5000–5999. Each assembly has its own range so that no
/// two messages share an id in one process (the operator loads Kubernetes, Operator, Comfy and
/// Observability; the router loads Router, Comfy, Kubernetes and Observability).
/// </summary>
internal static class EventIds
{
    public const int RangeStart = 5000;
    public const int RangeEnd = 5999;

    public const int OperatorRuntimeLeading = 5001;
    public const int OperatorRuntimeSynced = 5002;
    public const int OperatorRuntimeStopped = 5003;
    public const int OperatorRuntimeNewLeader = 5004;
    public const int ControllerRunnerReconcileFailed = 5100;
    public const int ControllerRunnerReconcileCrashed = 5101;
    public const int ComfyNodeControllerPodCreated = 5200;
    public const int ComfyNodeControllerPodReplaced = 5201;
    public const int ComfyNodeControllerDraining = 5202;
    public const int ComfyNodeControllerDrainFinished = 5203;
    public const int ComfyNodeControllerDrainingForReplacement = 5204;
    public const int ComfyNodeControllerReplacementDrained = 5205;
    public const int WorkflowDeploymentControllerInvalid = 5300;
    public const int WorkflowDeploymentControllerScaled = 5301;
    public const int WorkflowDeploymentControllerRolling = 5302;
}
