using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.Metrics;

/// <summary>Counts requests by route template (never the raw path: run ids would explode cardinality).</summary>
internal sealed class HttpMetricsMiddleware(RequestDelegate next, RouterMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            if (route.Length > 1 && route.EndsWith('/'))
            {
                // A group's "/" endpoint renders as "/v1/runs/"; label it the way users write it.
                route = route[..^1];
            }

            metrics.HttpRequest(route, context.Request.Method, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
        }
    }
}
