using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>autoscaling/v1 Scale, what the /scale subresource reads and writes.</summary>
public sealed class Scale : IKubernetesObject<ObjectMeta>
{
    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public ObjectMeta Metadata { get; set; } = new();

    public ScaleSpec Spec { get; set; } = new();

    public ScaleStatus? Status { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
