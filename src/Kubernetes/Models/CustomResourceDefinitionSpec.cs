using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class CustomResourceDefinitionSpec
{
    public string Group { get; set; } = string.Empty;

    public CustomResourceDefinitionNames Names { get; set; } = new();

    public string Scope { get; set; } = "Namespaced";

    public IList<CustomResourceDefinitionVersion> Versions { get; set; } = [];

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
