using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ComfyOperator.Entities;

/// <summary>How often and how patiently the operator probes a node. Unset fields take the operator's defaults.</summary>
[Description("Health probe settings; unset fields take the operator's defaults.")]
public sealed class ProbeSpec
{
    [Description("Seconds between probes.")]
    [Range(1, 3600)]
    public int? PeriodSeconds { get; set; }

    [Description("Seconds one probe may take.")]
    [Range(1, 600)]
    public int? TimeoutSeconds { get; set; }

    [Description("Consecutive failed probes before the node is Offline.")]
    [Range(1, 100)]
    public int? FailureThreshold { get; set; }
}
