using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class KeyToPath
{
    public string Key { get; set; } = string.Empty;

    public string Path { get; set; } = string.Empty;

    public int? Mode { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
