using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ComfyOperator.Entities;

/// <summary>Per-workflow limits the router enforces.</summary>
[Description("Run limits.")]
public sealed class WorkflowLimits
{
    [Description("Seconds a run may take on a worker before it is interrupted.")]
    [Range(1, 86400)]
    [DefaultValue(600)]
    public int TimeoutSeconds { get; set; } = 600;

    [Description("Attempts per run (a worker lost mid-run counts as one).")]
    [Range(1, 10)]
    [DefaultValue(2)]
    public int MaxAttempts { get; set; } = 2;

    [Description("Runs waiting for a worker before new ones get 429.")]
    [Range(1, 100000)]
    [DefaultValue(100)]
    public int MaxPending { get; set; } = 100;
}
