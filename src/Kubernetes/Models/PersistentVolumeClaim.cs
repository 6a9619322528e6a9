namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 PersistentVolumeClaim.</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "PersistentVolumeClaim", PluralName = "persistentvolumeclaims")]
public sealed class PersistentVolumeClaim : KubernetesObject
{
    public PersistentVolumeClaimSpec Spec { get; set; } = new();

    public PersistentVolumeClaimStatus? Status { get; set; }
}
