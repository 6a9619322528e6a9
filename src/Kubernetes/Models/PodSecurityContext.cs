using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class PodSecurityContext
{
    public long? RunAsUser { get; set; }

    public long? RunAsGroup { get; set; }

    public bool? RunAsNonRoot { get; set; }

    public long? FsGroup { get; set; }

    public IList<long>? SupplementalGroups { get; set; }

    public string? FsGroupChangePolicy { get; set; }

    public JsonElement? SeccompProfile { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
