namespace ComfyOperator.Kubernetes.Models;

/// <summary>coordination.k8s.io/v1 Lease, the leader-election lock.</summary>
[KubernetesEntity(Group = "coordination.k8s.io", ApiVersion = "v1", Kind = "Lease", PluralName = "leases")]
public sealed class Lease : KubernetesObject
{
    public LeaseSpec Spec { get; set; } = new();
}
