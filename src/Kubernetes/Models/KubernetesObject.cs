using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>
/// Base of every typed resource. A new instance gets apiVersion and kind from the type's
/// <see cref="KubernetesEntityAttribute"/>, so <c>new Pod { ... }</c> is ready to send.
/// Unknown top-level fields are kept so a read-modify-replace does not drop them.
/// </summary>
public abstract class KubernetesObject : IKubernetesObject<ObjectMeta>
{
    protected KubernetesObject()
    {
        var type = ResourceType.TryOf(GetType());
        if (type is not null)
        {
            ApiVersion = type.ApiVersion;
            Kind = type.Kind;
        }
    }

    [JsonPropertyOrder(-3)]
    public string? ApiVersion { get; set; }

    [JsonPropertyOrder(-2)]
    public string? Kind { get; set; }

    [JsonPropertyOrder(-1)]
    public ObjectMeta Metadata { get; set; } = new();

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
