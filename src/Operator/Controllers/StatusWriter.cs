using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

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
        IKubernetes client,
        TEntity entity,
        TStatus status,
        Action<TStatus, long?> setObservedGeneration,
        CancellationToken cancellationToken)
        where TEntity : CustomResource<TSpec, TStatus>
        where TSpec : new()
        where TStatus : new()
    {
        var resources = new CustomResourceClient<TEntity>(client);
        var name = entity.Metadata.Name!;
        var @namespace = entity.Metadata.NamespaceProperty!;
        var target = KubernetesJson.Deserialize<TEntity>(KubernetesJson.Serialize(entity))!;
        for (var attempt = 1; ; attempt++)
        {
            target.Status = status;
            try
            {
                await resources.ReplaceStatusAsync(target, EntityApi.OperatorName, cancellationToken);
                return;
            }
            catch (HttpOperationException e) when (e.IsConflict() && attempt < MaxAttempts)
            {
                target = await resources.ReadAsync(name, @namespace, cancellationToken);
                setObservedGeneration(status, target.Metadata.Generation);
            }
        }
    }
}
