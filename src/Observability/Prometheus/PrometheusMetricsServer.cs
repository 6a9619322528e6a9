using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Observability.Prometheus;

/// <summary>
/// Creates the collector at start-up (so measurements before the first scrape count) and, when
/// <see cref="PrometheusEndpointOptions.Port"/> is set, runs a small Kestrel listener that serves only the metrics path.
/// </summary>
public sealed partial class PrometheusMetricsServer(
    PrometheusCollector collector,
    IOptions<PrometheusEndpointOptions> options,
    ILogger<PrometheusMetricsServer> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Addresses the separate listener is bound to (empty when it is not running).</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = collector;
        var settings = options.Value;
        if (settings.Port is not { } port)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            if (settings.Host is "*" or "+" or "0.0.0.0")
            {
                kestrel.ListenAnyIP(port);
            }
            else if (string.Equals(settings.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                kestrel.ListenLocalhost(port);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(settings.Host), port);
            }
        });
        var app = builder.Build();
        app.MapPrometheusMetrics(settings.Path, collector, settings);
        await app.StartAsync(cancellationToken);
        _app = app;
        Addresses = [.. app.Urls];
        var addresses = string.Join(", ", Addresses);
        LogListening(logger, addresses, settings.Path);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Metrics listener on {Addresses} serving {Path}")]
    private static partial void LogListening(ILogger logger, string addresses, string path);
}
