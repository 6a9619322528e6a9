namespace ComfyOperator.Kubernetes.Models;

/// <summary>The body of a DELETE: grace period, propagation policy, preconditions.</summary>
public sealed class DeleteOptions
{
    public string? ApiVersion { get; set; } = "v1";

    public string? Kind { get; set; } = "DeleteOptions";

    public long? GracePeriodSeconds { get; set; }

    /// <summary><see cref="Models.PropagationPolicy"/>: Orphan, Background or Foreground.</summary>
    public string? PropagationPolicy { get; set; }

    public Preconditions? Preconditions { get; set; }

    public IList<string>? DryRun { get; set; }
}
