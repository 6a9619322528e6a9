using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class LabelSelectorRequirement
{
    public string Key { get; set; } = string.Empty;

    public string Operator { get; set; } = string.Empty;

    public IList<string>? Values { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
