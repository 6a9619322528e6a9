using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Observability.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ComfyOperator.Operator.Metrics;

/// <summary>
/// Registers the operator's metrics. The operator serves <c>/metrics</c> on its own HTTP port
/// (<c>--metrics-port</c>, next to <c>/healthz</c> and <c>/readyz</c>); <c>Metrics:BearerToken</c>
/// guards it, and <c>Metrics:Port</c> adds a separate metrics-only listener when set.
/// </summary>
internal static class OperatorMetricsExtensions
{
    public static IServiceCollection AddOperatorMetrics(this IServiceCollection services)
    {
        services.AddComfyMetrics();
        services.AddSingleton<OperatorMetrics>();
        services.TryAddSingleton(sp =>
        {
            var metrics = sp.GetRequiredService<OperatorMetrics>();
            var requests = new KubernetesClientMetrics();
            requests.RequestCompleted += (_, e) => metrics.KubernetesRequest(e.Verb, e.Code, e.Elapsed);
            return requests;
        });
        return services;
    }
}
