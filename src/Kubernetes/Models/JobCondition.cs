using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class JobCondition
{
    public string Type { get; set; } = string.Empty;

    public string Status { get; set; } = ConditionStatus.Unknown;

    public DateTimeOffset? LastProbeTime { get; set; }

    public DateTimeOffset? LastTransitionTime { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
