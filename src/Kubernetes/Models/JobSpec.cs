using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class JobSpec
{
    public PodTemplateSpec Template { get; set; } = new();

    public int? BackoffLimit { get; set; }

    public int? Completions { get; set; }

    public int? Parallelism { get; set; }

    public long? ActiveDeadlineSeconds { get; set; }

    public int? TtlSecondsAfterFinished { get; set; }

    public LabelSelectorSpec? Selector { get; set; }

    public bool? ManualSelector { get; set; }

    public bool? Suspend { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
