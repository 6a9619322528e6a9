using System.Text;
using ComfyOperator.Observability.Metrics;
using Microsoft.Extensions.Options;
using Prometheus;

namespace ComfyOperator.Observability.Tests.Metrics;

/// <summary>A fresh registry with the factory the binaries use, and its exposition as a scraper sees it.</summary>
internal sealed class TestRegistry
{
    public TestRegistry(Action<MetricsOptions>? configure = null)
    {
        var options = new MetricsOptions();
        configure?.Invoke(options);
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Factory = new CappedMetricFactory(Registry, Options.Create(options));
    }

    public CollectorRegistry Registry { get; }

    public CappedMetricFactory Factory { get; }

    public async Task<string> ScrapeAsync()
    {
        using var stream = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
