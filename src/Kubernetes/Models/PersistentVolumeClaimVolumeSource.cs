using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class PersistentVolumeClaimVolumeSource
{
    public string ClaimName { get; set; } = string.Empty;

    public bool? ReadOnly { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
