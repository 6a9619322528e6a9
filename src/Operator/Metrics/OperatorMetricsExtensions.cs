using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Observability.Prometheus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ComfyOperator.Operator.Metrics;

/// <summary>
/// Registers the operator's metrics and its own metrics listener: <c>Metrics:Port</c> (default
/// <see cref="DefaultPort"/>), <c>Metrics:Host</c>, <c>Metrics:BearerToken</c>.
/// </summary>
internal static class OperatorMetricsExtensions
{
    public const int DefaultPort = 8081;

    public static IServiceCollection AddOperatorMetrics(this IServiceCollection services)
    {
        services.AddPrometheusMetrics();
        // The operator has no other HTTP surface: its metrics always get their own listener.
        services.PostConfigure<PrometheusEndpointOptions>(o => o.Port ??= DefaultPort);
        services.AddSingleton<OperatorMetrics>();
        services.TryAddSingleton(sp => new KubernetesClientMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        return services;
    }
}
