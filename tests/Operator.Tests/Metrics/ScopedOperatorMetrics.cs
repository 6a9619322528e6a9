using System.Text;
using ComfyOperator.Observability.Metrics;
using ComfyOperator.Operator.Metrics;
using Microsoft.Extensions.Options;
using Prometheus;

namespace ComfyOperator.Operator.Tests.Metrics;

/// <summary>An <see cref="OperatorMetrics"/> in a registry of its own, and that registry's exposition.</summary>
internal sealed class ScopedOperatorMetrics
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();

    public ScopedOperatorMetrics()
    {
        Metrics = new OperatorMetrics(new CappedMetricFactory(_registry, Options.Create(new MetricsOptions())));
    }

    public OperatorMetrics Metrics { get; }

    public async Task<string> ScrapeAsync()
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
