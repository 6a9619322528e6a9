namespace ComfyOperator.Kubernetes.Models;

/// <summary>A list response (<c>PodList</c>, <c>ComfyNodeList</c>...).</summary>
public sealed class KubernetesList<T> : IKubernetesObject<ListMeta>
{
    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public ListMeta Metadata { get; set; } = new();

    public IList<T> Items { get; set; } = [];
}
