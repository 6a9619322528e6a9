using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class VolumeResourceRequirements
{
    public IDictionary<string, Quantity>? Limits { get; set; }

    public IDictionary<string, Quantity>? Requests { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
