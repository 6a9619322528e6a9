namespace ComfyOperator.Kubernetes.Models;

/// <summary>
/// Base for custom resources with a spec and a status. Put <see cref="KubernetesEntityAttribute"/>
/// on the derived class. Status is written through the <c>/status</c> subresource.
/// </summary>
public abstract class CustomResource<TSpec, TStatus> : KubernetesObject
    where TSpec : new()
    where TStatus : new()
{
    public TSpec Spec { get; set; } = new();

    public TStatus Status { get; set; } = new();
}
