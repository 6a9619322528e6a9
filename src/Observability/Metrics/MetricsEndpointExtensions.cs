using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prometheus;

namespace ComfyOperator.Observability.Metrics;

/// <summary>Maps the scrape endpoint: prometheus-net's exporter behind our access check.</summary>
public static class MetricsEndpointExtensions
{
    /// <summary>
    /// Serves the binary's registry at the configured path (<c>Metrics:Path</c>). The endpoint allows anonymous
    /// access at the ASP.NET Core level; <see cref="MetricsOptions.BearerToken"/> and
    /// <see cref="MetricsOptions.Authorize"/> are the way to require credentials.
    /// </summary>
    public static IEndpointConventionBuilder MapComfyMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value;
        var registry = endpoints.ServiceProvider.GetRequiredService<CollectorRegistry>();
        return endpoints.MapComfyMetrics(registry, options);
    }

    internal static IEndpointConventionBuilder MapComfyMetrics(this IEndpointRouteBuilder endpoints, CollectorRegistry registry, MetricsOptions options)
    {
        // Text format 0.0.4 only, as always: OpenMetrics would only add exemplars, which we do not record.
        var exporter = new MetricServerMiddleware.Settings { Registry = registry, EnableOpenMetrics = false };
        var pipeline = endpoints.CreateApplicationBuilder()
            .UseMiddleware<MetricsAccessMiddleware>(options)
            .UseMiddleware<MetricServerMiddleware>(exporter)
            .Build();
        return endpoints.MapGet(options.Path, pipeline)
            .WithName("PrometheusMetrics")
            .WithDisplayName("Prometheus metrics")
            .AllowAnonymous()
            .ExcludeFromDescription();
    }
}
