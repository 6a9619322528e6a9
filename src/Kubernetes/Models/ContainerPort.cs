using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ContainerPort
{
    public string? Name { get; set; }

    [JsonPropertyName("containerPort")]
    public int ContainerPortProperty { get; set; }

    public string? Protocol { get; set; }

    public int? HostPort { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
