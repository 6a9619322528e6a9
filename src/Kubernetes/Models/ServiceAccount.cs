namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 ServiceAccount.</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "ServiceAccount", PluralName = "serviceaccounts")]
public sealed class ServiceAccount : KubernetesObject
{
    public IList<ObjectReference>? Secrets { get; set; }

    public IList<LocalObjectReference>? ImagePullSecrets { get; set; }

    public bool? AutomountServiceAccountToken { get; set; }
}
