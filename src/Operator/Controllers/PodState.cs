namespace ComfyOperator.Operator.Controllers;

/// <summary>Where a managed node's pod is, as far as the node's status cares.</summary>
internal enum PodState
{
    None,
    Pending,
    Running,
    Failed,
    Terminating,
}
