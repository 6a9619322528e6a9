using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Health;
using ComfyOperator.Operator.Routing;

namespace ComfyOperator.Operator.Controllers;

/// <summary>
/// Decides whether a cordoned ComfyNode (<c>spec.unschedulable</c>, or deleted and held by its
/// finalizer) may be removed. With <c>--router-url</c> the router says so: the node is drained when
/// the router lists it as cordoned and idle since (a cordoned worker is assigned nothing, so that
/// stays true), or when the router does not list it at all (it never was, or no longer is, a worker
/// there). Without a router the operator's own probe decides: the worker's queue is empty, asked no
/// sooner than <see cref="RouterWatchLag"/> after the cordon, so that a router that was dispatching
/// when the cordon came has seen it. That fallback cannot see a prompt posted just after the probe;
/// give the operator the router's address wherever runs matter.
/// </summary>
internal sealed class NodeDrainer(RouterClient? router, NodeProber prober, TimeProvider time)
{
    /// <summary>How long the router may take to see a cordon through its watch (fallback without a router only).</summary>
    public static readonly TimeSpan RouterWatchLag = TimeSpan.FromSeconds(2);

    public bool AsksRouter => router is not null;

    public async Task<DrainCheck> CheckAsync(ComfyNode node, DateTimeOffset cordonedAt, TimeSpan probeTimeout, CancellationToken cancellationToken)
    {
        if (router is not null)
        {
            var workers = await router.ListClusterNodesAsync(cancellationToken);
            if (workers is null)
            {
                return DrainCheck.Unknown;
            }

            var key = $"{node.Metadata.NamespaceProperty}/{node.Metadata.Name}";
            var worker = workers.FirstOrDefault(w => string.Equals(w.Resource, key, StringComparison.Ordinal));
            return worker is null || worker.Drained ? DrainCheck.Drained : DrainCheck.Busy;
        }

        if (string.IsNullOrEmpty(node.Status.Endpoint) || !node.Status.Conditions.IsConditionTrue(ConditionTypes.Ready))
        {
            // Never a worker, or not one any more: the router sends nothing to it.
            return DrainCheck.Drained;
        }

        if (time.GetUtcNow() - cordonedAt < RouterWatchLag)
        {
            return DrainCheck.Busy;
        }

        var probe = await prober.ProbeAsync(node.Status.Endpoint, probeTimeout, cancellationToken);
        return !probe.Succeeded || probe.QueueRemaining == 0 ? DrainCheck.Drained : DrainCheck.Busy;
    }
}
