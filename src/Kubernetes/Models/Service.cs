namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 Service.</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "Service", PluralName = "services")]
public sealed class Service : KubernetesObject
{
    public ServiceSpec Spec { get; set; } = new();

    public ServiceStatus? Status { get; set; }
}
