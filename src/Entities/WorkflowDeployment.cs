using System.ComponentModel;
using ComfyOperator.Entities.Schema;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities;

/// <summary>
/// A ComfyUI workflow published as an API, plus the workers that serve it: owned ComfyNodes
/// stamped from <c>spec.template</c>, or existing ones picked by <c>spec.nodeSelector</c>.
/// </summary>
[KubernetesEntity(Group = EntityApi.Group, ApiVersion = EntityApi.Version, Kind = "WorkflowDeployment", PluralName = "workflowdeployments")]
[ShortNames("wfd")]
[Categories(EntityApi.Category)]
[ScaleSubresource(".spec.replicas", ".status.replicas", LabelSelectorPath = ".status.selector")]
[Description("A ComfyUI workflow published as an API, plus the workers that serve it.")]
[PrinterColumn("Phase", ".status.phase", "string", Order = 0, Description = "Pending, Ready, Degraded or Invalid.")]
[PrinterColumn("Ready", ".status.readyText", "string", Order = 1, Description = "Ready workers / desired workers.")]
[PrinterColumn("Desired", ".spec.replicas", "integer", Order = 2, Description = "Replicas wanted (set by the operator when autoscaling).")]
[PrinterColumn("Scaling", ".status.scaling", "string", Order = 3, Description = "Why, when autoscaling: ScalingUp, ScalingDown, ScaledToZero, Stable...")]
[PrinterColumn("Endpoint", ".status.endpoint", "string", Order = 4, Description = "Router path that runs the workflow.")]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date", Order = 5)]
[PrinterColumn("Demand", ".status.demand", "integer", Order = 6, Priority = 1, Description = "Runs pending plus running, when autoscaling.")]
[PrinterColumn("Preset", ".spec.preset", "string", Order = 7, Priority = 1, Description = "Built-in graph, when one is used.")]
public sealed class WorkflowDeployment : CustomResource<WorkflowDeploymentSpec, WorkflowDeploymentStatus>
{
}
