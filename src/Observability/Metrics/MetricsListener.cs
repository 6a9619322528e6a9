using System.Net;
using ComfyOperator.Observability.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace ComfyOperator.Observability.Metrics;

/// <summary>
/// When <see cref="MetricsOptions.Port"/> is set, a small Kestrel listener that serves only the metrics path.
/// </summary>
/// <remarks>
/// prometheus-net's <c>KestrelMetricServer</c> would do the serving, but it has no hook for the bearer
/// token and does not tell which port it bound (port 0 picks a free one), so this listener maps the same
/// exporter as the API port does.
/// </remarks>
public sealed partial class MetricsListener(
    CollectorRegistry registry,
    IOptions<MetricsOptions> options,
    ILogger<MetricsListener> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Addresses the separate listener is bound to (empty when it is not running).</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Port is not { } port)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
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
        app.MapComfyMetrics(registry, settings);
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

    [LoggerMessage(EventId = EventIds.MetricsListenerListening, Level = LogLevel.Information, Message = "Metrics listener on {Addresses} serving {Path}")]
    private static partial void LogListening(ILogger logger, string addresses, string path);
}
