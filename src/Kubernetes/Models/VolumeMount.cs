using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class VolumeMount
{
    public string Name { get; set; } = string.Empty;

    public string MountPath { get; set; } = string.Empty;

    public string? SubPath { get; set; }

    public bool? ReadOnly { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
