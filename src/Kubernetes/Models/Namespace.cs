namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 Namespace (cluster-scoped).</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "Namespace", PluralName = "namespaces", Scope = EntityScope.Cluster)]
public sealed class Namespace : KubernetesObject
{
    public NamespaceSpec? Spec { get; set; }

    public NamespaceStatus? Status { get; set; }
}
