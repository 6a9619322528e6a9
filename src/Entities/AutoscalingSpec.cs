using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ComfyOperator.Entities;

/// <summary>
/// Autoscaling of a WorkflowDeployment on its demand (runs pending and running, read from the
/// router). With it set the operator owns <c>spec.replicas</c>, as a HorizontalPodAutoscaler owns a
/// Deployment's through <c>/scale</c>.
/// </summary>
[Description("Scale replicas on the router's demand for the workflow (runs pending plus running). With it set the operator owns spec.replicas.")]
public sealed class AutoscalingSpec
{
    [Description("Fewest replicas; 0 lets the workflow scale to zero when no run is pending or running.")]
    [Range(0, 1000)]
    [DefaultValue(1)]
    public int MinReplicas { get; set; } = 1;

    [Description("Most replicas.")]
    [Range(1, 1000)]
    [Required]
    public int MaxReplicas { get; set; } = 1;

    [Description("Runs pending or running per replica the fleet aims for: desired = ceil(demand / this), within min and max.")]
    [Range(1, 1000)]
    [DefaultValue(1)]
    public int TargetPendingPerReplica { get; set; } = 1;

    [Description("Seconds a replica must be surplus (demand below what the current replicas serve) before it goes.")]
    [Range(0, 86400)]
    [DefaultValue(300)]
    public int ScaleDownDelaySeconds { get; set; } = 300;

    [Description("Seconds the demand must call for more replicas before they are added; scaling up from zero never waits.")]
    [Range(0, 3600)]
    [DefaultValue(0)]
    public int ScaleUpStabilizationSeconds { get; set; }
}
