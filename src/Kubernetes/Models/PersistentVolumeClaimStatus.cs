using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class PersistentVolumeClaimStatus
{
    public string? Phase { get; set; }

    public IList<string>? AccessModes { get; set; }

    public IDictionary<string, Quantity>? Capacity { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
