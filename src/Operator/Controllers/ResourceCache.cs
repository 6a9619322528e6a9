using ComfyOperator.Kubernetes.Informers;
using k8s;
using k8s.Models;

namespace ComfyOperator.Operator.Controllers;

/// <summary>
/// The informers of one type over the watched namespaces (one informer for all namespaces, or
/// one per listed namespace), read as one cache.
/// </summary>
internal sealed class ResourceCache<T> : IAsyncDisposable
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IReadOnlyList<Informer<T>> _informers;

    public ResourceCache(IKubernetes client, IReadOnlyList<string> namespaces, string? labelSelector, TimeProvider time)
    {
        _informers = namespaces.Count == 0
            ? [new Informer<T>(client, new InformerOptions { LabelSelector = labelSelector }, timeProvider: time)]
            : [.. namespaces.Select(ns => new Informer<T>(client, new InformerOptions { Namespace = ns, LabelSelector = labelSelector }, timeProvider: time))];
    }

    public IReadOnlyList<Informer<T>> Informers => _informers;

    public int Count => _informers.Sum(i => i.Count);

    public bool HasSynced => _informers.All(i => i.HasSynced);

    public T? Get(string key)
    {
        foreach (var informer in _informers)
        {
            if (informer.Get(key) is { } item)
            {
                return item;
            }
        }

        return null;
    }

    public IEnumerable<T> List(string? ns = null) =>
        _informers.SelectMany(i => i.List()).Where(item => ns is null || item.Metadata.NamespaceProperty == ns);

    public void Start(CancellationToken cancellationToken)
    {
        foreach (var informer in _informers)
        {
            informer.Start(cancellationToken);
        }
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_informers.Select(i => i.WaitForSyncAsync(cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (var informer in _informers)
        {
            await informer.DisposeAsync();
        }
    }
}
