using ComfyOperator.Observability.Metrics;
using ComfyOperator.Operator.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Tests.Metrics;

/// <summary>A host with the operator's metrics on their own listener at a free loopback port.</summary>
internal sealed class OperatorMetricsHost : IAsyncDisposable
{
    private readonly IHost _host;

    private OperatorMetricsHost(IHost host, Uri metricsUri)
    {
        _host = host;
        MetricsUri = metricsUri;
    }

    public Uri MetricsUri { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<OperatorMetricsHost> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Metrics:Port"] = "0", ["Metrics:Host"] = "127.0.0.1" });
        builder.Logging.ClearProviders();
        builder.Services.AddOperatorMetrics();
        var host = builder.Build();
        await host.StartAsync();
        var address = host.Services.GetRequiredService<MetricsListener>().Addresses.Single();
        return new OperatorMetricsHost(host, new Uri(address + "/metrics"));
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
