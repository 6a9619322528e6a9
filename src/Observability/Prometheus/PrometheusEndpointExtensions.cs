using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Observability.Prometheus;

/// <summary>Maps the scrape endpoint.</summary>
public static class PrometheusEndpointExtensions
{
    /// <summary>
    /// Serves the collector's exposition at <paramref name="pattern"/> (default: the configured path).
    /// The endpoint allows anonymous access at the ASP.NET Core level; <see cref="PrometheusEndpointOptions.BearerToken"/>
    /// and <see cref="PrometheusEndpointOptions.Authorize"/> are the way to require credentials.
    /// </summary>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string? pattern = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<PrometheusEndpointOptions>>().Value;
        var collector = endpoints.ServiceProvider.GetRequiredService<PrometheusCollector>();
        return endpoints.MapPrometheusMetrics(pattern ?? options.Path, collector, options);
    }

    internal static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string pattern, PrometheusCollector collector, PrometheusEndpointOptions options) =>
        endpoints.MapGet(pattern, async context =>
        {
            if (!await IsAuthorizedAsync(context, options))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return;
            }

            var text = collector.Scrape();
            context.Response.ContentType = PrometheusText.ContentType;
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.WriteAsync(text, Encoding.UTF8, context.RequestAborted);
        })
        .WithName("PrometheusMetrics")
        .WithDisplayName("Prometheus metrics")
        .AllowAnonymous()
        .ExcludeFromDescription();

    private static async ValueTask<bool> IsAuthorizedAsync(HttpContext context, PrometheusEndpointOptions options)
    {
        if (!string.IsNullOrEmpty(options.BearerToken))
        {
            var header = context.Request.Headers.Authorization.ToString();
            const string scheme = "Bearer ";
            if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            var presented = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
            var expected = Encoding.UTF8.GetBytes(options.BearerToken);
            if (!CryptographicOperations.FixedTimeEquals(presented, expected))
            {
                return false;
            }
        }

        return options.Authorize is null || await options.Authorize(context);
    }
}
