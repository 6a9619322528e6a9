using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Observability.Prometheus;

/// <summary>Registers the collector, its options and the optional separate metrics listener.</summary>
public static class PrometheusServiceCollectionExtensions
{
    public const string DefaultSectionName = "Metrics";

    /// <summary>
    /// Adds the exporter. Options bind from <paramref name="sectionName"/> (<c>Metrics:Port</c>,
    /// <c>Metrics:Path</c>, <c>Metrics:BearerToken</c>, <c>Metrics:MaxSeriesPerInstrument</c>, <c>Metrics:HistogramBuckets</c>).
    /// </summary>
    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services, string sectionName = DefaultSectionName)
    {
        services.AddMetrics();
        services.AddOptions<PrometheusExporterOptions>().BindConfiguration(sectionName);
        services.AddOptions<PrometheusEndpointOptions>().BindConfiguration(sectionName)
            .Validate(o => o.Port is null or (>= 0 and <= 65535), $"{sectionName}:Port must be between 0 and 65535.")
            .Validate(o => o.Path.StartsWith('/'), $"{sectionName}:Path must start with '/'.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => new PrometheusCollector(
            sp.GetRequiredService<IOptions<PrometheusExporterOptions>>().Value,
            sp.GetRequiredService<IMeterFactory>()));
        services.TryAddSingleton<PrometheusMetricsServer>();
        services.AddHostedService(sp => sp.GetRequiredService<PrometheusMetricsServer>());
        return services;
    }

    /// <summary>True when <c>Metrics:Port</c> asks for a separate listener (then the main port need not map the path).</summary>
    public static bool UsesSeparateMetricsPort(this IConfiguration configuration, string sectionName = DefaultSectionName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrEmpty(configuration[sectionName + ":Port"]);
    }
}
