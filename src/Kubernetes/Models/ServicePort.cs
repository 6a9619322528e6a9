using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ServicePort
{
    public string? Name { get; set; }

    public int Port { get; set; }

    public IntOrString? TargetPort { get; set; }

    public string? Protocol { get; set; }

    public int? NodePort { get; set; }

    public string? AppProtocol { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
