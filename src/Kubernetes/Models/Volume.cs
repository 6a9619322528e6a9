using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class Volume
{
    public string Name { get; set; } = string.Empty;

    public EmptyDirVolumeSource? EmptyDir { get; set; }

    public PersistentVolumeClaimVolumeSource? PersistentVolumeClaim { get; set; }

    public ConfigMapVolumeSource? ConfigMap { get; set; }

    public SecretVolumeSource? Secret { get; set; }

    public HostPathVolumeSource? HostPath { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
