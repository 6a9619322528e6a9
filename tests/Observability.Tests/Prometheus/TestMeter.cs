using System.Diagnostics.Metrics;
using ComfyOperator.Observability.Prometheus;

namespace ComfyOperator.Observability.Tests.Prometheus;

/// <summary>A meter with a name no other test uses, and a collector that listens only to it.</summary>
internal sealed class TestMeter : IDisposable
{
    public TestMeter(Action<PrometheusExporterOptions>? configure = null)
    {
        var name = "ComfyOperator.Test." + Guid.NewGuid().ToString("N");
        Meter = new Meter(name);
        var options = new PrometheusExporterOptions();
        options.MeterPrefixes.Clear();
        options.MeterPrefixes.Add(name);
        configure?.Invoke(options);
        Collector = new PrometheusCollector(options);
    }

    public Meter Meter { get; }

    public PrometheusCollector Collector { get; }

    public void Dispose()
    {
        Collector.Dispose();
        Meter.Dispose();
    }
}
