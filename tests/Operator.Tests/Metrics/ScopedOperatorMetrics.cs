using System.Diagnostics.Metrics;
using ComfyOperator.Observability.Prometheus;
using ComfyOperator.Operator.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Operator.Tests.Metrics;

/// <summary>An <see cref="OperatorMetrics"/> on its own meter factory, with a collector that sees only it.</summary>
internal sealed class ScopedOperatorMetrics : IDisposable
{
    private readonly ServiceProvider _services;

    public ScopedOperatorMetrics()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        Collector = new PrometheusCollector(new PrometheusExporterOptions(), factory);
        Metrics = new OperatorMetrics(factory);
    }

    public OperatorMetrics Metrics { get; }

    public PrometheusCollector Collector { get; }

    public void Dispose()
    {
        Collector.Dispose();
        _services.Dispose();
    }
}
