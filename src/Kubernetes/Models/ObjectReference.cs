using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ObjectReference
{
    public string? Kind { get; set; }

    [JsonPropertyName("namespace")]
    public string? NamespaceProperty { get; set; }

    public string? Name { get; set; }

    public string? Uid { get; set; }

    public string? ApiVersion { get; set; }

    public string? ResourceVersion { get; set; }

    public string? FieldPath { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
