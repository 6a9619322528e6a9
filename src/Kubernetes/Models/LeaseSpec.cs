using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class LeaseSpec
{
    public string? HolderIdentity { get; set; }

    public int? LeaseDurationSeconds { get; set; }

    [MicroTime]
    public DateTimeOffset? AcquireTime { get; set; }

    [MicroTime]
    public DateTimeOffset? RenewTime { get; set; }

    public int? LeaseTransitions { get; set; }

    public string? Strategy { get; set; }

    public string? PreferredHolder { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
