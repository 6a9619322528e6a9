using System.Collections.Concurrent;
using System.Reflection;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>What the client needs to address a type on the API: group, version, kind, plural and scope.</summary>
public sealed record ResourceType(string Group, string Version, string Kind, string Plural, bool Namespaced)
{
    private static readonly ConcurrentDictionary<Type, ResourceType?> Cache = new();

    /// <summary><c>v1</c> for the core group, <c>group/version</c> otherwise.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary><c>plural</c> for the core group, <c>plural.group</c> otherwise (how the API names a resource in messages).</summary>
    public string QualifiedResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>The resource type of <typeparamref name="T"/>, read from its <see cref="KubernetesEntityAttribute"/>.</summary>
    public static ResourceType Of<T>() => Of(typeof(T));

    public static ResourceType Of(Type type) =>
        TryOf(type) ?? throw new ArgumentException($"{type.FullName} has no [KubernetesEntity] attribute.", nameof(type));

    public static ResourceType? TryOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Cache.GetOrAdd(type, static t =>
        {
            var attribute = t.GetCustomAttribute<KubernetesEntityAttribute>(inherit: false);
            if (attribute is null)
            {
                return null;
            }

            var kind = attribute.Kind ?? t.Name;
            var plural = attribute.PluralName ?? kind.ToLowerInvariant() + "s";
            return new ResourceType(attribute.Group, attribute.ApiVersion, kind, plural, attribute.Scope == EntityScope.Namespaced);
        });
    }

    /// <summary>
    /// The URL path of a collection or an object: <c>/api/v1/namespaces/ns/pods/name</c>,
    /// <c>/apis/group/version/plural</c>... A null namespace on a namespaced type means "all namespaces".
    /// </summary>
    public string Path(string? @namespace = null, string? name = null, string? subresource = null)
    {
        var builder = new System.Text.StringBuilder(96);
        builder.Append(Group.Length == 0 ? "/api/" : "/apis/").Append(ApiVersion);
        if (Namespaced && !string.IsNullOrEmpty(@namespace))
        {
            builder.Append("/namespaces/").Append(Uri.EscapeDataString(@namespace));
        }

        builder.Append('/').Append(Plural);
        if (!string.IsNullOrEmpty(name))
        {
            builder.Append('/').Append(Uri.EscapeDataString(name));
            if (!string.IsNullOrEmpty(subresource))
            {
                builder.Append('/').Append(subresource);
            }
        }

        return builder.ToString();
    }
}
