namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 Pod.</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "Pod", PluralName = "pods")]
public sealed class Pod : KubernetesObject
{
    public PodSpec Spec { get; set; } = new();

    public PodStatus? Status { get; set; }
}
