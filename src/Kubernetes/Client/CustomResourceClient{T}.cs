using System.Text.Json;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// Typed access to one custom resource type through the official client's <c>CustomObjects</c>
/// operations, which take and return untyped JSON: this adds the group/version/plural of
/// <typeparamref name="T"/> and the (de)serialization with the package's <see cref="KubernetesJson"/>.
/// Errors are the package's <see cref="k8s.Autorest.HttpOperationException"/> (see <see cref="ApiErrors"/>).
/// </summary>
public sealed class CustomResourceClient<T>(IKubernetes client)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly ResourceType Type = ResourceType.Of<T>();

    public async Task<T> ReadAsync(string name, string @namespace, CancellationToken cancellationToken = default) =>
        Typed(await client.CustomObjects.GetNamespacedCustomObjectAsync(Type.Group, Type.Version, @namespace, Type.Plural, name, cancellationToken).ConfigureAwait(false));

    /// <summary>Lists one namespace, or all namespaces when <paramref name="namespace"/> is null.</summary>
    public async Task<CustomResourceList<T>> ListAsync(
        string? @namespace,
        string? labelSelector = null,
        int? limit = null,
        string? continueToken = null,
        CancellationToken cancellationToken = default) =>
        @namespace is null
            ? await client.CustomObjects.ListCustomObjectForAllNamespacesAsync<CustomResourceList<T>>(
                Type.Group, Type.Version, Type.Plural, continueParameter: continueToken, labelSelector: labelSelector, limit: limit, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<T>>(
                Type.Group, Type.Version, @namespace, Type.Plural, continueParameter: continueToken, labelSelector: labelSelector, limit: limit, cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task<T> CreateAsync(T body, string @namespace, string? fieldManager = null, CancellationToken cancellationToken = default) =>
        Typed(await client.CustomObjects.CreateNamespacedCustomObjectAsync(body, Type.Group, Type.Version, @namespace, Type.Plural, fieldManager: fieldManager, cancellationToken: cancellationToken).ConfigureAwait(false));

    /// <summary>PUT: optimistic concurrency on body.metadata.resourceVersion (409 when stale).</summary>
    public async Task<T> ReplaceAsync(T body, string? fieldManager = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Typed(await client.CustomObjects.ReplaceNamespacedCustomObjectAsync(
            body, Type.Group, Type.Version, body.Metadata.NamespaceProperty, Type.Plural, body.Metadata.Name, fieldManager: fieldManager, cancellationToken: cancellationToken).ConfigureAwait(false));
    }

    /// <summary>PUT to <c>/status</c>: only the status of <paramref name="body"/> is taken.</summary>
    public async Task<T> ReplaceStatusAsync(T body, string? fieldManager = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Typed(await client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(
            body, Type.Group, Type.Version, body.Metadata.NamespaceProperty, Type.Plural, body.Metadata.Name, fieldManager: fieldManager, cancellationToken: cancellationToken).ConfigureAwait(false));
    }

    public async Task<T> PatchAsync(V1Patch patch, string name, string @namespace, string? fieldManager = null, CancellationToken cancellationToken = default) =>
        Typed(await client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, Type.Group, Type.Version, @namespace, Type.Plural, name, fieldManager: fieldManager, cancellationToken: cancellationToken).ConfigureAwait(false));

    public async Task DeleteAsync(string name, string @namespace, CancellationToken cancellationToken = default) =>
        await client.CustomObjects.DeleteNamespacedCustomObjectAsync(Type.Group, Type.Version, @namespace, Type.Plural, name, cancellationToken: cancellationToken).ConfigureAwait(false);

    private static T Typed(object value) => CustomResourceJson.Typed<T>(value);
}
