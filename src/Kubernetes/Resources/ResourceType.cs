using System.Collections.Concurrent;
using System.Reflection;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Resources;

/// <summary>
/// How a type is addressed on the API (group, version, kind, plural), read from the official client's
/// <see cref="KubernetesEntityAttribute"/>: what <c>CustomObjects</c> calls and the CRD generator need.
/// </summary>
public sealed record ResourceType(string Group, string Version, string Kind, string Plural)
{
    private static readonly ConcurrentDictionary<Type, ResourceType> Cache = new();

    /// <summary><c>v1</c> for the core group, <c>group/version</c> otherwise.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary><c>plural.group</c>: the name of a CRD, and how the API names a resource in messages.</summary>
    public string QualifiedResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public static ResourceType Of<T>() => Of(typeof(T));

    public static ResourceType Of(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Cache.GetOrAdd(type, static t =>
        {
            var attribute = t.GetCustomAttribute<KubernetesEntityAttribute>(inherit: false)
                ?? throw new ArgumentException($"{t.FullName} has no [KubernetesEntity] attribute.", nameof(type));
            var kind = attribute.Kind ?? t.Name;
            return new ResourceType(attribute.Group ?? string.Empty, attribute.ApiVersion ?? "v1", kind, attribute.PluralName ?? kind.ToLowerInvariant() + "s");
        });
    }
}
