using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ContainerStateWaiting
{
    public string? Reason { get; set; }

    public string? Message { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
