using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class Toleration
{
    public string? Key { get; set; }

    public string? Operator { get; set; }

    public string? Value { get; set; }

    public string? Effect { get; set; }

    public long? TolerationSeconds { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
