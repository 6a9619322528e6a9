using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities;

/// <summary>
/// What the operator last observed about a node. Written through <c>/status</c> and only when
/// something a reader cares about changed: a probe that finds the same answers writes nothing.
/// </summary>
[Description("Observed state of the worker, written by the operator.")]
public sealed class ComfyNodeStatus
{
    [Description("Pending, Starting, Idle, Busy, Offline or Failed.")]
    [AllowedValues(ComfyNodePhase.Pending, ComfyNodePhase.Starting, ComfyNodePhase.Idle, ComfyNodePhase.Busy, ComfyNodePhase.Offline, ComfyNodePhase.Failed)]
    public string? Phase { get; set; }

    [Description("Human-readable detail about the phase.")]
    public string? Message { get; set; }

    [Description("Base URL of the ComfyUI API (http://<podIP>:<port>, or spec.url for an external node).")]
    public string? Endpoint { get; set; }

    [Description("Name of the pod running ComfyUI (managed nodes).")]
    public string? PodName { get; set; }

    [Description("Prompts running or waiting on the node at the last probe.")]
    public int? QueueRemaining { get; set; }

    [Description("ComfyUI version reported by /system_stats.")]
    public string? ComfyVersion { get; set; }

    [Description("Short name of the first device, e.g. 'NVIDIA H100 80GB HBM3' or 'cpu' (x2 when there are two).")]
    public string? Gpu { get; set; }

    [Description("Devices reported by /system_stats.")]
    public IList<DeviceStatus>? Devices { get; set; }

    [Description("Time of the last probe that changed this status. Probes that find nothing new are not written, so that idle nodes cost no API writes.")]
    public DateTimeOffset? LastProbeTime { get; set; }

    [Description("Failed probes in a row.")]
    [Range(0, int.MaxValue)]
    public int ConsecutiveFailures { get; set; }

    [Description("The metadata.generation this status describes.")]
    public long? ObservedGeneration { get; set; }

    [Description("Ready, ModelsReady and Healthy.")]
    public IList<V1Condition>? Conditions { get; set; }
}
