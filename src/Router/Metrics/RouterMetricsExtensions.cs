using ComfyOperator.Observability.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Metrics;

/// <summary>One call each from the router's set-up: register the metrics, then serve and feed them.</summary>
internal static class RouterMetricsExtensions
{
    public static IServiceCollection AddRouterMetrics(this IServiceCollection services)
    {
        services.AddComfyMetrics();
        services.AddSingleton<RouterMetrics>();
        services.AddSingleton<RunMetricsObserver>();
        return services;
    }

    /// <summary>Counts HTTP requests and maps <c>/metrics</c> on the API port unless <c>Metrics:Port</c> moves it to its own listener.</summary>
    public static WebApplication UseRouterMetrics(this WebApplication app)
    {
        app.UseMiddleware<HttpMetricsMiddleware>();
        if (!app.Configuration.UsesSeparateMetricsPort())
        {
            app.MapComfyMetrics();
        }

        return app;
    }
}
