using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Hosting;

/// <summary>
/// <c>/healthz</c> (process alive), <c>/readyz</c> (leading with synced caches, or standing by) and a
/// placeholder <c>/metrics</c> with a few counters in Prometheus text (full metrics come later).
/// </summary>
internal static class HealthServer
{
    public static async Task<WebApplication?> StartAsync(int port, OperatorRuntime runtime, CancellationToken cancellationToken)
    {
        if (port == 0)
        {
            return null;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://0.0.0.0:{port.ToString(CultureInfo.InvariantCulture)}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", () => !runtime.IsLeader || runtime.IsSynced ? Results.Text("ok") : Results.Text("syncing", statusCode: 503));
        app.MapGet("/metrics", () => Results.Text(
            string.Create(
                CultureInfo.InvariantCulture,
                $"# TYPE comfy_operator_leader gauge\ncomfy_operator_leader {(runtime.IsLeader ? 1 : 0)}\n" +
                $"# TYPE comfy_operator_reconciles_total counter\ncomfy_operator_reconciles_total {runtime.Reconciles}\n" +
                $"# TYPE comfy_operator_status_writes_total counter\ncomfy_operator_status_writes_total {runtime.StatusWrites}\n"),
            "text/plain; version=0.0.4"));
        await app.StartAsync(cancellationToken);
        return app;
    }
}
