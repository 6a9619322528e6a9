using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ServiceSpec
{
    public string? Type { get; set; }

    public IDictionary<string, string>? Selector { get; set; }

    public IList<ServicePort>? Ports { get; set; }

    public string? ClusterIP { get; set; }

    public IList<string>? ClusterIPs { get; set; }

    public string? SessionAffinity { get; set; }

    public bool? PublishNotReadyAddresses { get; set; }

    public string? ExternalTrafficPolicy { get; set; }

    public string? InternalTrafficPolicy { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
