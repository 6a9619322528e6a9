using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class PodStatus
{
    public string? Phase { get; set; }

    public string? PodIP { get; set; }

    public IList<PodIP>? PodIPs { get; set; }

    public string? HostIP { get; set; }

    public DateTimeOffset? StartTime { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }

    public IList<PodCondition>? Conditions { get; set; }

    public IList<ContainerStatus>? ContainerStatuses { get; set; }

    public IList<ContainerStatus>? InitContainerStatuses { get; set; }

    public string? QosClass { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
