using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities;

/// <summary>What the operator last observed about a workflow deployment.</summary>
[Description("Observed state of the workflow deployment, written by the operator.")]
public sealed class WorkflowDeploymentStatus
{
    [Description("Pending, Ready, Degraded or Invalid.")]
    [AllowedValues(WorkflowDeploymentPhase.Pending, WorkflowDeploymentPhase.Ready, WorkflowDeploymentPhase.Degraded, WorkflowDeploymentPhase.Invalid)]
    public string? Phase { get; set; }

    [Description("Workers serving the workflow (owned or selected).")]
    [Range(0, int.MaxValue)]
    public int Replicas { get; set; }

    [Description("Workers that are Ready.")]
    [Range(0, int.MaxValue)]
    public int ReadyReplicas { get; set; }

    [Description("readyReplicas/desired, e.g. 2/3 (for kubectl get).")]
    public string? ReadyText { get; set; }

    [Description("Autoscaling: runs pending plus running the router reported at the last look.")]
    public int? Demand { get; set; }

    [Description("Autoscaling: why replicas are what they are (ScalingUp, ScalingDown, ScaledToZero, Stable, RouterUnavailable, NoRouter); the Scaling condition says more.")]
    public string? Scaling { get; set; }

    [Description("Label selector of the workers, as a string (for the scale subresource).")]
    public string? Selector { get; set; }

    [Description("Router path that runs the workflow.")]
    public string? Endpoint { get; set; }

    [Description("Why the workflow is Invalid; each entry names the node and field.")]
    public IList<WorkflowValidationError>? ValidationErrors { get; set; }

    [Description("The metadata.generation this status describes.")]
    public long? ObservedGeneration { get; set; }

    [Description("WorkflowValid, ModelsReady and Available.")]
    public IList<V1Condition>? Conditions { get; set; }
}
