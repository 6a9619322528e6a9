using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class EventSeries
{
    public int? Count { get; set; }

    [MicroTime]
    public DateTimeOffset? LastObservedTime { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
