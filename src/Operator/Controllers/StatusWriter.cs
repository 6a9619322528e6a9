using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Serialization;

namespace ComfyOperator.Operator.Controllers;

/// <summary>Writes a custom resource's status through <c>/status</c>, retrying conflicts on a fresh read.</summary>
internal static class StatusWriter
{
    private const int MaxAttempts = 5;

    /// <summary>
    /// PUT to /status; on 409 re-read the object and put the same status on the fresh copy (up to 5 times).
    /// The caller's object is never mutated: it may be a shared informer-cache instance.
    /// </summary>
    public static async Task WriteAsync<TEntity, TSpec, TStatus>(
        IKubernetesClient client,
        TEntity entity,
        TStatus status,
        Action<TStatus, long?> setObservedGeneration,
        CancellationToken cancellationToken)
        where TEntity : CustomResource<TSpec, TStatus>
        where TSpec : new()
        where TStatus : new()
    {
        var name = entity.Metadata.Name!;
        var @namespace = entity.Metadata.NamespaceProperty!;
        var target = KubernetesJson.Deserialize<TEntity>(KubernetesJson.Serialize(entity))!;
        for (var attempt = 1; ; attempt++)
        {
            target.Status = status;
            try
            {
                await client.ReplaceNamespacedStatusAsync(target, name, @namespace, EntityApi.OperatorName, cancellationToken);
                return;
            }
            catch (KubernetesException e) when (e.IsConflict && attempt < MaxAttempts)
            {
                target = await client.ReadNamespacedAsync<TEntity>(name, @namespace, cancellationToken);
                setObservedGeneration(status, target.Metadata.Generation);
            }
        }
    }
}
