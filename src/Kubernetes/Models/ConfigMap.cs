namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 ConfigMap.</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "ConfigMap", PluralName = "configmaps")]
public sealed class ConfigMap : KubernetesObject
{
    public IDictionary<string, string>? Data { get; set; }

    public IDictionary<string, byte[]>? BinaryData { get; set; }

    public bool? Immutable { get; set; }
}
