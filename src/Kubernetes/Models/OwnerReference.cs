namespace ComfyOperator.Kubernetes.Models;

public sealed class OwnerReference
{
    public string ApiVersion { get; set; } = string.Empty;

    public string Kind { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public string Uid { get; set; } = string.Empty;

    public bool? Controller { get; set; }

    public bool? BlockOwnerDeletion { get; set; }
}
