using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class PodTemplateSpec
{
    public ObjectMeta? Metadata { get; set; }

    public PodSpec Spec { get; set; } = new();

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
