using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using ComfyOperator.Entities.Schema;

namespace ComfyOperator.Entities;

/// <summary>
/// The workflow (exactly one of <see cref="Workflow"/>, <see cref="WorkflowRef"/>, <see cref="Preset"/>),
/// its public parameters, and where it runs (<see cref="Replicas"/> + <see cref="Template"/>, or <see cref="NodeSelector"/>).
/// </summary>
[Description("Desired state of a published workflow.")]
public sealed class WorkflowDeploymentSpec
{
    [Description("The ComfyUI graph in API format (the JSON POST /prompt takes), inline.")]
    [PreserveUnknownFields]
    [SchemaType("object")]
    public JsonElement? Workflow { get; set; }

    [Description("The graph in API format, read from a ConfigMap key.")]
    public WorkflowRef? WorkflowRef { get; set; }

    [Description("A built-in graph: sd15, sdxl or flux.")]
    [AllowedValues(WorkflowPresets.Sd15, WorkflowPresets.Sdxl, WorkflowPresets.Flux)]
    public string? Preset { get; set; }

    [Description("Public parameters; each maps onto graph[node].inputs[input].")]
    public IList<WorkflowInput>? Inputs { get; set; }

    [Description("Outputs to collect; default: every output node.")]
    public IList<WorkflowOutput>? Outputs { get; set; }

    [Description("Model files the workflow needs; added to every stamped-out node's models.")]
    public IList<ModelFile>? Models { get; set; }

    [Description("Number of ComfyNodes to stamp out from the template (ignored with nodeSelector).")]
    [Range(0, 1000)]
    [DefaultValue(1)]
    public int Replicas { get; set; } = 1;

    [Description("During a template change, how many owned nodes may be draining or not ready at once; each is drained before its pod is replaced.")]
    [Range(1, 1000)]
    [DefaultValue(1)]
    public int MaxUnavailable { get; set; } = 1;

    [Description("Scale replicas on the router's demand (template only). With it set the operator owns spec.replicas.")]
    public AutoscalingSpec? Autoscaling { get; set; }

    [Description("The ComfyNode spec stamped out replicas times as owned nodes.")]
    public ComfyNodeSpec? Template { get; set; }

    [Description("Serve on existing ComfyNodes whose labels match (instead of replicas + template).")]
    public IDictionary<string, string>? NodeSelector { get; set; }

    [Description("Limits the router applies to runs of this workflow.")]
    public WorkflowLimits? Limits { get; set; }
}
