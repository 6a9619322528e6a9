namespace ComfyOperator.Kubernetes.Models;

/// <summary>An API object with metadata (ObjectMeta for resources, ListMeta for lists).</summary>
public interface IKubernetesObject<TMetadata> : IKubernetesObject
{
    TMetadata Metadata { get; set; }
}
