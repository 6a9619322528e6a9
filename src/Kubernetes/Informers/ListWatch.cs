using System.Runtime.CompilerServices;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Informers;

/// <summary>The list/watch pairs of the types our informers cache: pods, config maps, services and custom resources.</summary>
public static class ListWatch
{
    /// <summary>
    /// The pair for <typeparamref name="T"/> in <paramref name="namespace"/> (null: all namespaces).
    /// <see cref="V1Pod"/>, <see cref="V1ConfigMap"/> and <see cref="V1Service"/> use CoreV1; a type of
    /// another group (a custom resource) uses CustomObjects.
    /// </summary>
    public static ListWatch<T> For<T>(IKubernetes client, string? @namespace, string? labelSelector = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        object pair = typeof(T) switch
        {
            var t when t == typeof(V1Pod) => Pods(client.CoreV1, @namespace, labelSelector),
            var t when t == typeof(V1ConfigMap) => ConfigMaps(client.CoreV1, @namespace, labelSelector),
            var t when t == typeof(V1Service) => Services(client.CoreV1, @namespace, labelSelector),
            _ when ResourceType.Of<T>().Group.Length > 0 => CustomResources<T>(client, @namespace, labelSelector),
            _ => throw new NotSupportedException($"No list/watch for {typeof(T).Name}."),
        };
        return (ListWatch<T>)pair;
    }

    private static ListWatch<V1Pod> Pods(ICoreV1Operations api, string? ns, string? selector) => new(
        async (limit, next, ct) => Page<V1Pod>(ns is null
            ? await api.ListPodForAllNamespacesAsync(continueParameter: next, labelSelector: selector, limit: limit, cancellationToken: ct).ConfigureAwait(false)
            : await api.ListNamespacedPodAsync(ns, continueParameter: next, labelSelector: selector, limit: limit, cancellationToken: ct).ConfigureAwait(false)),
        (rv, timeout, onError, ct) => ns is null
            ? api.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : api.WatchListNamespacedPodAsync(ns, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    private static ListWatch<V1ConfigMap> ConfigMaps(ICoreV1Operations api, string? ns, string? selector) => new(
        async (limit, next, ct) => Page<V1ConfigMap>(ns is null
            ? await api.ListConfigMapForAllNamespacesAsync(continueParameter: next, labelSelector: selector, limit: limit, cancellationToken: ct).ConfigureAwait(false)
            : await api.ListNamespacedConfigMapAsync(ns, continueParameter: next, labelSelector: selector, limit: limit, cancellationToken: ct).ConfigureAwait(false)),
        (rv, timeout, onError, ct) => ns is null
            ? api.WatchListConfigMapForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : api.WatchListNamespacedConfigMapAsync(ns, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    private static ListWatch<V1Service> Services(ICoreV1Operations api, string? ns, string? selector) => new(
        async (limit, next, ct) => Page<V1Service>(ns is null
            ? await api.ListServiceForAllNamespacesAsync(continueParameter: next, labelSelector: selector, limit: limit, cancellationToken: ct).ConfigureAwait(false)
            : await api.ListNamespacedServiceAsync(ns, continueParameter: next, labelSelector: selector, limit: limit, cancellationToken: ct).ConfigureAwait(false)),
        (rv, timeout, onError, ct) => ns is null
            ? api.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : api.WatchListNamespacedServiceAsync(ns, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    // The package's GenericClient watch takes no resourceVersion nor label selector, so custom resources
    // go through CustomObjects, whose objects come back as JSON and are typed here.
    private static ListWatch<T> CustomResources<T>(IKubernetes client, string? ns, string? selector)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var resources = new CustomResourceClient<T>(client);
        var type = ResourceType.Of<T>();
        return new(
            async (limit, next, ct) => Page<T>(await resources.ListAsync(ns, selector, limit, next, ct).ConfigureAwait(false)),
            (rv, timeout, onError, ct) => Typed<T>(ns is null
                ? client.CustomObjects.WatchListCustomObjectForAllNamespacesAsync(type.Group, type.Version, type.Plural, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
                : client.CustomObjects.WatchListNamespacedCustomObjectAsync(type.Group, type.Version, ns, type.Plural, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct), ct));
    }

    private static async IAsyncEnumerable<(WatchEventType, T)> Typed<T>(IAsyncEnumerable<(WatchEventType, object)> events, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        await foreach (var (type, value) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return (type, CustomResourceJson.Typed<T>(value));
        }
    }

    private static ListPage<T> Page<T>(IKubernetesObject<V1ListMeta> list)
        where T : class
    {
        var items = ((IItems<T>)list).Items;
        return new ListPage<T>([.. items], list.Metadata?.ResourceVersion, string.IsNullOrEmpty(list.Metadata?.ContinueProperty) ? null : list.Metadata.ContinueProperty);
    }
}
