using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Observability.Metrics;

/// <summary>Runs before prometheus-net's exporter: the bearer token and the auth hook of <see cref="MetricsOptions"/>.</summary>
internal sealed class MetricsAccessMiddleware(RequestDelegate next, MetricsOptions options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!await IsAuthorizedAsync(context))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return;
        }

        context.Response.Headers.CacheControl = "no-store";
        await next(context);
    }

    private async ValueTask<bool> IsAuthorizedAsync(HttpContext context)
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
