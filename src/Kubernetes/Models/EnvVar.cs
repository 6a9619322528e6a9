using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class EnvVar
{
    public string Name { get; set; } = string.Empty;

    public string? Value { get; set; }

    public EnvVarSource? ValueFrom { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
