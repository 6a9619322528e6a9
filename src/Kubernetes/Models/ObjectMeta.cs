using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

public sealed class ObjectMeta
{
    public string? Name { get; set; }

    public string? GenerateName { get; set; }

    [JsonPropertyName("namespace")]
    public string? NamespaceProperty { get; set; }

    public string? Uid { get; set; }

    public string? ResourceVersion { get; set; }

    public long? Generation { get; set; }

    public DateTimeOffset? CreationTimestamp { get; set; }

    public DateTimeOffset? DeletionTimestamp { get; set; }

    public long? DeletionGracePeriodSeconds { get; set; }

    public IDictionary<string, string>? Labels { get; set; }

    public IDictionary<string, string>? Annotations { get; set; }

    public IList<OwnerReference>? OwnerReferences { get; set; }

    public IList<string>? Finalizers { get; set; }

    /// <summary>Server-side apply bookkeeping, kept opaque.</summary>
    public JsonElement? ManagedFields { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
