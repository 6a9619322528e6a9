using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Watch;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// Typed access to any resource type carrying <see cref="KubernetesEntityAttribute"/>. Method names
/// follow the official client's generic surface (<c>ReadNamespacedAsync</c>, <c>ListNamespacedAsync</c>,
/// <c>PatchNamespacedStatusAsync</c>...). The non-"Namespaced" variants address cluster-scoped types,
/// or all namespaces for list and watch. Errors are thrown as <see cref="KubernetesException"/>.
/// </summary>
public interface IKubernetesClient
{
    /// <summary>The namespace from the configuration (context or pod namespace).</summary>
    string DefaultNamespace { get; }

    Task<T> ReadNamespacedAsync<T>(string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> ReadAsync<T>(string name, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<KubernetesList<T>> ListNamespacedAsync<T>(string @namespace, ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    /// <summary>Lists a cluster-scoped type, or a namespaced type across all namespaces.</summary>
    Task<KubernetesList<T>> ListAsync<T>(ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> CreateNamespacedAsync<T>(T body, string @namespace, string? fieldManager = null, bool dryRun = false, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> CreateAsync<T>(T body, string? fieldManager = null, bool dryRun = false, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    /// <summary>PUT: optimistic concurrency on body.metadata.resourceVersion (409 when stale).</summary>
    Task<T> ReplaceNamespacedAsync<T>(T body, string name, string @namespace, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> ReplaceAsync<T>(T body, string name, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    /// <summary>Merge, JSON or apply patch. <paramref name="force"/> is for apply patches only.</summary>
    Task<T> PatchNamespacedAsync<T>(KubernetesPatch patch, string name, string @namespace, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> PatchAsync<T>(KubernetesPatch patch, string name, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    /// <summary>
    /// DELETE. Returns the object when the server answers with it (finalizers pending, or types such
    /// as pods), null when it answers with a Success Status.
    /// </summary>
    Task<T?> DeleteNamespacedAsync<T>(string name, string @namespace, DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T?> DeleteAsync<T>(string name, DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> ReadNamespacedStatusAsync<T>(string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> ReadStatusAsync<T>(string name, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> ReplaceNamespacedStatusAsync<T>(T body, string name, string @namespace, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> ReplaceStatusAsync<T>(T body, string name, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> PatchNamespacedStatusAsync<T>(KubernetesPatch patch, string name, string @namespace, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<T> PatchStatusAsync<T>(KubernetesPatch patch, string name, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<Scale> ReadNamespacedScaleAsync<T>(string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<Scale> ReplaceNamespacedScaleAsync<T>(Scale body, string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    Task<Scale> PatchNamespacedScaleAsync<T>(KubernetesPatch patch, string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    /// <summary>Watches one namespace. The sequence ends when the server closes the stream (timeoutSeconds).</summary>
    IAsyncEnumerable<WatchEvent<T>> WatchNamespacedAsync<T>(string @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;

    /// <summary>Watches a cluster-scoped type, or a namespaced type across all namespaces.</summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(WatchOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta>;
}
