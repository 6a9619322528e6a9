namespace ComfyOperator.Kubernetes.Models;

/// <summary>Anything the API serves: it has an apiVersion and a kind.</summary>
public interface IKubernetesObject
{
    string? ApiVersion { get; set; }

    string? Kind { get; set; }
}
