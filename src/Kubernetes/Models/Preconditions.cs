namespace ComfyOperator.Kubernetes.Models;

/// <summary>Delete only if the stored object still has this uid / resourceVersion (else 409).</summary>
public sealed class Preconditions
{
    public string? Uid { get; set; }

    public string? ResourceVersion { get; set; }
}
