using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Resources;

/// <summary>
/// Base for our custom resources: an <see cref="IKubernetesObject{V1ObjectMeta}"/> with a spec and a
/// status, serialized by the official client's <c>KubernetesJson</c>. A new instance gets apiVersion and
/// kind from the <see cref="KubernetesEntityAttribute"/> of the derived class, so it is ready to send.
/// Status is written through the <c>/status</c> subresource.
/// </summary>
public abstract class CustomResource<TSpec, TStatus> : IKubernetesObject<V1ObjectMeta>, ISpec<TSpec>, IStatus<TStatus>
    where TSpec : new()
    where TStatus : new()
{
    protected CustomResource()
    {
        var type = ResourceType.Of(GetType());
        ApiVersion = type.ApiVersion;
        Kind = type.Kind;
    }

    [JsonPropertyName("apiVersion")]
    [JsonPropertyOrder(-3)]
    public string ApiVersion { get; set; }

    [JsonPropertyName("kind")]
    [JsonPropertyOrder(-2)]
    public string Kind { get; set; }

    [JsonPropertyName("metadata")]
    [JsonPropertyOrder(-1)]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public TSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public TStatus Status { get; set; } = new();
}
