using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class Lifecycle
{
    public LifecycleHandler? PreStop { get; set; }

    public LifecycleHandler? PostStart { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
