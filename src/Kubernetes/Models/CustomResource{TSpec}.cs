namespace ComfyOperator.Kubernetes.Models;

/// <summary>Base for custom resources that have a spec and no status.</summary>
public abstract class CustomResource<TSpec> : KubernetesObject
    where TSpec : new()
{
    public TSpec Spec { get; set; } = new();
}
