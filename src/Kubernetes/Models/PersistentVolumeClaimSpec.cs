using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class PersistentVolumeClaimSpec
{
    public IList<string>? AccessModes { get; set; }

    public VolumeResourceRequirements? Resources { get; set; }

    public string? StorageClassName { get; set; }

    public string? VolumeName { get; set; }

    public string? VolumeMode { get; set; }

    public LabelSelectorSpec? Selector { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
