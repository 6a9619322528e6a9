using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ContainerState
{
    public ContainerStateWaiting? Waiting { get; set; }

    public ContainerStateRunning? Running { get; set; }

    public ContainerStateTerminated? Terminated { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
