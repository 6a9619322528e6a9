using System.Text.Json;
using k8s;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>Types what the official client's <c>CustomObjects</c> operations return as untyped JSON.</summary>
public static class CustomResourceJson
{
    /// <summary>An object the API returned as a <see cref="JsonElement"/>, as <typeparamref name="T"/> (through the package's <see cref="KubernetesJson"/>).</summary>
    public static T Typed<T>(object value)
        where T : class => value switch
        {
            T typed => typed,
            JsonElement element => KubernetesJson.Deserialize<T>(element.GetRawText()) ?? throw new JsonException($"The API returned null for a {typeof(T).Name}."),
            _ => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(value)) ?? throw new JsonException($"The API returned null for a {typeof(T).Name}."),
        };
}
