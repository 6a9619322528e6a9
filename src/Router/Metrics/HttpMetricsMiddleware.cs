using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.Metrics;

/// <summary>Counts requests by route template (never the raw path: run ids would explode cardinality).</summary>
/// <remarks>
/// Not prometheus-net's <c>UseHttpMetrics</c>: it labels <c>code</c> and <c>endpoint</c> where our
/// series (and the dashboard) say <c>status</c> and <c>route</c>, and it takes the client's method
/// straight into a label, past the series cap.
/// </remarks>
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
