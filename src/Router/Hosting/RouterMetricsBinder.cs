using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Router.Hosting;

/// <summary>Connects the metrics to the live state at start-up: the queue, the worker registry, the input cache and the demand per workflow.</summary>
internal sealed class RouterMetricsBinder(RouterMetrics metrics, RunMetricsObserver observer, WorkerRegistry workers, InputCache cache, RunDemand demand, WorkflowCatalog catalog, TimeProvider time) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ObserveQueue(observer.QueueDepth);
        metrics.ObserveWorkers(() => workers.Workers.Select(w => (w.Name, w.Phase(time.GetUtcNow()))));
        metrics.ObserveInputCacheBytes(() => cache.UsedBytes);
        metrics.ObserveDemand(async cancellationToken =>
        {
            var counts = await demand.CurrentAsync(cancellationToken);
            return catalog.All.Select(w => (w.Name, counts.TryGetValue(w.Name, out var d) ? d : WorkflowDemand.None));
        });
        cache.Evicted += (_, _) => metrics.InputCacheEvicted();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
