namespace ComfyOperator.Kubernetes.Models;

/// <summary>A <c>metav1.Condition</c>: one entry of <c>status.conditions</c>, keyed by <see cref="Type"/>.</summary>
public sealed class Condition
{
    /// <summary>PascalCase condition type, e.g. <c>Ready</c>.</summary>
    public string Type { get; set; } = string.Empty;

    /// <summary><see cref="ConditionStatus"/>: True, False or Unknown.</summary>
    public string Status { get; set; } = ConditionStatus.Unknown;

    public long? ObservedGeneration { get; set; }

    public DateTimeOffset? LastTransitionTime { get; set; }

    /// <summary>CamelCase, non-empty machine reason.</summary>
    public string Reason { get; set; } = string.Empty;

    public string Message { get; set; } = string.Empty;
}
