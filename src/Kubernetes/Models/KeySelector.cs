using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>A key of a ConfigMap or Secret (configMapKeyRef / secretKeyRef).</summary>
public sealed class KeySelector
{
    public string? Name { get; set; }

    public string Key { get; set; } = string.Empty;

    public bool? Optional { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
