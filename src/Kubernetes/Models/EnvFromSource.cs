using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class EnvFromSource
{
    public string? Prefix { get; set; }

    public LocalObjectReference? ConfigMapRef { get; set; }

    public LocalObjectReference? SecretRef { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
