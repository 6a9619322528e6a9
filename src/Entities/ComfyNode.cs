using System.ComponentModel;
using ComfyOperator.Entities.Schema;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities;

/// <summary>
/// One ComfyUI worker: <b>managed</b> (the operator runs a pod for it) or <b>external</b>
/// (<c>spec.url</c> points at a ComfyUI that already runs; it is only probed).
/// </summary>
[KubernetesEntity(Group = EntityApi.Group, ApiVersion = EntityApi.Version, Kind = "ComfyNode", PluralName = "comfynodes")]
[ShortNames("cn")]
[Categories(EntityApi.Category)]
[Description("One ComfyUI worker: a pod the operator runs (managed) or a ComfyUI that already runs at spec.url (external).")]
[PrinterColumn("Phase", ".status.phase", "string", Order = 0, Description = "Pending, Starting, Idle, Busy, Offline or Failed.")]
[PrinterColumn("Endpoint", ".status.endpoint", "string", Order = 1, Description = "Base URL of the ComfyUI API.")]
[PrinterColumn("Queue", ".status.queueRemaining", "integer", Order = 2, Description = "Prompts running or waiting on the node.")]
[PrinterColumn("GPU", ".status.gpu", "string", Order = 3, Description = "The first device ComfyUI reports.")]
[PrinterColumn("Unschedulable", ".spec.unschedulable", "boolean", Order = 4, Description = "Cordoned: the router sends it nothing new.")]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date", Order = 5)]
[PrinterColumn("Version", ".status.comfyVersion", "string", Order = 6, Priority = 1, Description = "ComfyUI version.")]
[PrinterColumn("Pod", ".status.podName", "string", Order = 7, Priority = 1, Description = "The pod of a managed node.")]
public sealed class ComfyNode : CustomResource<ComfyNodeSpec, ComfyNodeStatus>
{
    /// <summary>True when the node points at a ComfyUI the operator does not run.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsExternal => !string.IsNullOrWhiteSpace(Spec.Url);
}
