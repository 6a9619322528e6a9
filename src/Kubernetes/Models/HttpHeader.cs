using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class HttpHeader
{
    public string Name { get; set; } = string.Empty;

    public string Value { get; set; } = string.Empty;

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
