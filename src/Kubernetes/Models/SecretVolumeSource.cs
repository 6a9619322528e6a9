using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class SecretVolumeSource
{
    public string? SecretName { get; set; }

    public IList<KeyToPath>? Items { get; set; }

    public int? DefaultMode { get; set; }

    public bool? Optional { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
