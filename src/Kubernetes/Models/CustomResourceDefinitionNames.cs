using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class CustomResourceDefinitionNames
{
    public string Plural { get; set; } = string.Empty;

    public string? Singular { get; set; }

    public string Kind { get; set; } = string.Empty;

    public string? ListKind { get; set; }

    public IList<string>? ShortNames { get; set; }

    public IList<string>? Categories { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
