namespace ComfyOperator.Kubernetes.Models;

/// <summary>batch/v1 Job.</summary>
[KubernetesEntity(Group = "batch", ApiVersion = "v1", Kind = "Job", PluralName = "jobs")]
public sealed class Job : KubernetesObject
{
    public JobSpec Spec { get; set; } = new();

    public JobStatus? Status { get; set; }
}
