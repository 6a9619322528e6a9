using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>Container security context.</summary>
public sealed class SecurityContext
{
    public long? RunAsUser { get; set; }

    public long? RunAsGroup { get; set; }

    public bool? RunAsNonRoot { get; set; }

    public bool? Privileged { get; set; }

    public bool? ReadOnlyRootFilesystem { get; set; }

    public bool? AllowPrivilegeEscalation { get; set; }

    public Capabilities? Capabilities { get; set; }

    public JsonElement? SeccompProfile { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
