using System.Globalization;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Observability.Hosting;
using ComfyOperator.Observability.Logging;
using ComfyOperator.Observability.Metrics;
using ComfyOperator.Operator.Metrics;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Operator.Hosting;

/// <summary>
/// The operator's composition root: logging (<c>Logging:Format</c> text or json, with resource
/// scopes), metrics (one <see cref="OperatorMetrics"/>, which also counts the Kubernetes client's
/// requests, in the operator's prometheus-net registry), the Kubernetes client, the <see cref="OperatorRuntime"/>, and
/// the operator's own HTTP port (<c>--metrics-port</c>) serving <c>/metrics</c>, <c>/healthz</c> and
/// <c>/readyz</c>. Settings beyond the command line come from the environment (<c>Metrics__BearerToken</c>,
/// <c>Logging__Format</c>...) and, in tests, from <see cref="OperatorHostSettings.Configuration"/>.
/// </summary>
internal sealed class OperatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly k8s.Kubernetes _client;
    private readonly bool _listen;
    private bool _listening;

    private OperatorHost(WebApplication app, bool listen, k8s.Kubernetes client, OperatorRuntime runtime, OperatorMetrics metrics)
    {
        _app = app;
        _listen = listen;
        _client = client;
        Runtime = runtime;
        Metrics = metrics;
    }

    public OperatorRuntime Runtime { get; }

    public OperatorMetrics Metrics { get; }

    /// <summary>The official client the operator runs on (its requests are counted in the operator's metrics).</summary>
    public IKubernetes Client => _client;

    /// <summary>The host's services (<see cref="KubernetesClientMetrics"/>, the metrics registry).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Where <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> are served (empty when <c>--metrics-port 0</c>).</summary>
    public IReadOnlyList<string> Addresses => _listening ? [.. _app.Urls] : [];

    /// <summary>Builds everything; throws <see cref="InvalidOperationException"/> naming a bad setting (e.g. <c>Logging:Format</c>).</summary>
    public static OperatorHost Create(OperatorOptions options, OperatorHostSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        settings ??= new OperatorHostSettings();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        if (settings.Configuration is { } extra)
        {
            builder.Configuration.AddInMemoryCollection(extra);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        if (settings.ConsoleLogging)
        {
            builder.Logging.AddComfyLogging(builder.Configuration);
        }

        foreach (var provider in settings.LoggerProviders)
        {
            builder.Logging.AddProvider(provider);
        }

        builder.Services.AddOperatorMetrics();
        // The command line owns SIGTERM and Ctrl-C (they cancel RunAsync); this web host only serves the port.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        if (options.MetricsPort != 0)
        {
            builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{settings.ListenHost}:{options.MetricsPort}"));
        }

        var app = builder.Build();
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var metrics = app.Services.GetRequiredService<OperatorMetrics>();
        // The official client, from --kubeconfig, or $KUBECONFIG / ~/.kube/config / the pod's service
        // account; every request it sends is counted in the kubernetes_client_* series.
        var configuration = options.Kubeconfig is null
            ? KubernetesClientConfiguration.BuildDefaultConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        var client = new k8s.Kubernetes(configuration, new KubernetesRequestMetricsHandler(app.Services.GetRequiredService<KubernetesClientMetrics>(), settings.Time));
        var runtime = new OperatorRuntime(options, client, configuration.Namespace ?? "default", metrics, loggerFactory, settings.Time);
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", () => !runtime.IsLeader || runtime.IsSynced ? Results.Text("ok") : Results.Text("syncing", statusCode: 503));
        app.MapComfyMetrics();
        return new OperatorHost(app, options.MetricsPort != 0, client, runtime, metrics);
    }

    /// <summary>Starts the metrics/health listener (unless the port is 0), then runs the operator until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await StartListeningAsync(cancellationToken);
        await Runtime.RunAsync(cancellationToken);
    }

    /// <summary>Starts the metrics/health listener; a no-op for port 0.</summary>
    public async Task StartListeningAsync(CancellationToken cancellationToken)
    {
        if (_listening || !_listen)
        {
            return;
        }

        await _app.StartAsync(cancellationToken);
        _listening = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_listening)
        {
            await _app.StopAsync(CancellationToken.None);
            _listening = false;
        }

        await Runtime.DisposeAsync();
        _client.Dispose();
        await _app.DisposeAsync();
    }
}
