using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ContainerStatus
{
    public string Name { get; set; } = string.Empty;

    public bool Ready { get; set; }

    public bool? Started { get; set; }

    public int RestartCount { get; set; }

    public string? Image { get; set; }

    public string? ImageID { get; set; }

    public string? ContainerID { get; set; }

    public ContainerState? State { get; set; }

    public ContainerState? LastState { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
