using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Informers;

/// <summary>
/// How an informer lists and watches one type in one scope (a namespace or all of them, with a label
/// selector) on the official client: the generated <c>List…</c> call for a page, and the generated
/// <c>WatchList…</c> call (the package's watcher, with resourceVersion, bookmarks and a server-side
/// timeout) for the changes after it. Made by <see cref="ListWatch"/>.
/// </summary>
public sealed class ListWatch<T>(
    Func<int?, string?, CancellationToken, Task<ListPage<T>>> list,
    Func<string?, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>One page of a LIST.</summary>
    public Task<ListPage<T>> ListAsync(int? limit, string? continueToken, CancellationToken cancellationToken) =>
        list(limit, continueToken, cancellationToken);

    /// <summary>
    /// A WATCH from <paramref name="resourceVersion"/> with bookmarks, ended by the server after
    /// <paramref name="timeoutSeconds"/>. The package's watcher hands ERROR events (a 410 Gone...) and
    /// undecodable lines to <paramref name="onError"/> rather than throwing them.
    /// </summary>
    public IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(string? resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken cancellationToken) =>
        watch(resourceVersion, timeoutSeconds, onError, cancellationToken);
}
