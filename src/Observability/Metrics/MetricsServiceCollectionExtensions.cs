using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace ComfyOperator.Observability.Metrics;

/// <summary>Registers the binary's prometheus-net registry, the metric factory, the options and the optional separate listener.</summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Adds one <see cref="CollectorRegistry"/> per host (two hosts in one process, as in tests, never
    /// export each other's series). Options bind from <c>Metrics</c> (<c>Metrics:Port</c>, <c>Metrics:Host</c>,
    /// <c>Metrics:Path</c>, <c>Metrics:BearerToken</c>, <c>Metrics:MaxSeriesPerInstrument</c>, <c>Metrics:HistogramBuckets</c>).
    /// </summary>
    public static IServiceCollection AddComfyMetrics(this IServiceCollection services)
    {
        // Our metrics live in our own registries. The default registry is never served; this keeps
        // its meter and event-counter adapters from ever starting, should anything collect it.
        Prometheus.Metrics.SuppressDefaultMetrics();

        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName)
            .Validate(o => o.Port is null or (>= 0 and <= 65535), "Metrics:Port must be between 0 and 65535.")
            .Validate(o => o.Path.StartsWith('/'), "Metrics:Path must start with '/'.")
            .Validate(o => o.MaxSeriesPerInstrument >= 1, "Metrics:MaxSeriesPerInstrument must be at least 1.")
            .ValidateOnStart();
        services.TryAddSingleton(static _ =>
        {
            var registry = Prometheus.Metrics.NewCustomRegistry();

            // Process CPU, memory, threads and GC counts: prometheus-net's standard process series.
            DotNetStats.Register(registry);
            return registry;
        });
        services.TryAddSingleton<CappedMetricFactory>();
        services.TryAddSingleton<MetricsListener>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsListener>());
        return services;
    }

    /// <summary>True when <c>Metrics:Port</c> asks for a separate listener (then the main port need not map the path).</summary>
    public static bool UsesSeparateMetricsPort(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrEmpty(configuration[MetricsOptions.SectionName + ":Port"]);
    }
}
