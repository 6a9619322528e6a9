using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Nodes;
using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Router.Hosting;

/// <summary>Connects the metrics to the live state at start-up: the queue, the worker registry and the input cache.</summary>
internal sealed class RouterMetricsBinder(RouterMetrics metrics, RunMetricsObserver observer, WorkerRegistry workers, InputCache cache, TimeProvider time) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ObserveQueue(observer.QueueDepth);
        metrics.ObserveWorkers(() => workers.Workers.Select(w => (w.Name, w.Phase(time.GetUtcNow()))));
        metrics.ObserveInputCacheBytes(() => cache.UsedBytes);
        cache.Evicted += (_, _) => metrics.InputCacheEvicted();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
