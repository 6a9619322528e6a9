namespace ComfyOperator.Kubernetes.Models;

/// <summary>core/v1 Secret; Data values are base64 on the wire and raw bytes here.</summary>
[KubernetesEntity(ApiVersion = "v1", Kind = "Secret", PluralName = "secrets")]
public sealed class Secret : KubernetesObject
{
    public IDictionary<string, byte[]>? Data { get; set; }

    public IDictionary<string, string>? StringData { get; set; }

    public string? Type { get; set; }

    public bool? Immutable { get; set; }
}
