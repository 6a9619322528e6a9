using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class CustomResourceSubresourceScale
{
    public string SpecReplicasPath { get; set; } = string.Empty;

    public string StatusReplicasPath { get; set; } = string.Empty;

    public string? LabelSelectorPath { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
