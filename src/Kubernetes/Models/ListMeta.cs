namespace ComfyOperator.Kubernetes.Models;

public sealed class ListMeta
{
    public string? ResourceVersion { get; set; }

    public string? Continue { get; set; }

    public long? RemainingItemCount { get; set; }
}
