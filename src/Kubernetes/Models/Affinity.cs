using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>Pod affinity; the term structure is kept opaque.</summary>
public sealed class Affinity
{
    public JsonElement? NodeAffinity { get; set; }

    public JsonElement? PodAffinity { get; set; }

    public JsonElement? PodAntiAffinity { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
