using System.Net;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Operator.Hosting;
using ComfyOperator.Testing.ComfyUI;
using ComfyOperator.Testing.Prometheus;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.EndToEnd.Tests.Operator;

/// <summary>The operator's own /metrics while it reconciles and probes real (simulated) workers.</summary>
public sealed class OperatorMetricsEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly OperatorEnvironment _env = new();
    private OperatorHost _operator = null!;
    private HttpClient _http = null!;
    private Uri _metrics = null!;

    public async Task InitializeAsync()
    {
        await _env.InitializeAsync();
        _operator = _env.StartOperatorHost(metricsPort: OperatorEnvironment.FreePort());
        _http = new HttpClient();
        var address = await OperatorEnvironment.WaitForAsync(() => Task.FromResult(_operator.Addresses.Count > 0 ? _operator.Addresses[0] : null), a => a is not null, Timeout, "the metrics listener");
        _metrics = new Uri(address!.TrimEnd('/') + "/metrics");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _env.DisposeAsync();
    }

    [Fact]
    public async Task Metrics_NodeReconciledThenKilled_ReconcilesProbesAndOfflinePhaseMove_PromtoolPasses()
    {
        var ns = await _env.CreateNamespaceAsync("metrics");
        await using var comfy = await ComfyUiSimulator.StartAsync(new() { Host = "127.0.0.1" });
        await ApplyExternalNodeAsync(ns, "w1", comfy.BaseAddress.ToString().TrimEnd('/'));

        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn/w1", "{.status.phase}"), p => p == ComfyNodePhase.Idle, Timeout, "w1 Idle");
        var idle = await OperatorEnvironment.WaitForAsync(() => _http.GetStringAsync(_metrics), t => Value(t, "comfy_operator_nodes", "phase=\"Idle\"") == 1, Timeout, "nodes{phase=Idle} 1");
        Assert.True(Value(idle, "comfy_operator_reconciles_total", "kind=\"ComfyNode\",result=\"success\"") >= 1, idle);
        Assert.True(Value(idle, "comfy_operator_probe_duration_seconds_count", null) >= 1, idle);
        Assert.Equal(1, Value(idle, "comfy_operator_leader", null));
        Assert.True(Value(idle, "kubernetes_client_requests_total", "code=\"200\",verb=\"update\"") >= 1 || Value(idle, "kubernetes_client_requests_total", "verb=\"update\",code=\"200\"") >= 1, idle);

        comfy.Die();

        var offline = await OperatorEnvironment.WaitForAsync(() => _http.GetStringAsync(_metrics), t => Value(t, "comfy_operator_nodes", "phase=\"Offline\"") == 1, Timeout, "nodes{phase=Offline} 1");
        Assert.Equal(0, Value(offline, "comfy_operator_nodes", "phase=\"Idle\""));
        Assert.True(Value(offline, "comfy_operator_probe_failures_total", "reason=\"connection\"") >= 2, offline);
        using var promtool = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (exitCode, output) = await Promtool.CheckMetricsAsync(offline, promtool.Token);
        Assert.True(exitCode == 0, $"promtool check metrics failed:\n{output}\n---\n{offline}");
    }

    [Fact]
    public async Task HealthEndpoints_OnTheMetricsPort_Answer()
    {
        var root = new Uri(_metrics, "/");
        Assert.Equal("ok", await _http.GetStringAsync(new Uri(root, "healthz")));
        var ready = await OperatorEnvironment.WaitForAsync(async () => (await _http.GetAsync(new Uri(root, "readyz"))).StatusCode, s => s == HttpStatusCode.OK, Timeout, "/readyz 200");
        Assert.Equal(HttpStatusCode.OK, ready);
    }

    [Fact]
    public async Task Metrics_BearerTokenSet_ScrapeWithoutItIsRefused()
    {
        var port = OperatorEnvironment.FreePort();
        var options = new OperatorOptions { Kubeconfig = _env.KubeconfigPath, LeaderElection = false, MetricsPort = port };
        await using var host = OperatorHost.Create(options, new OperatorHostSettings
        {
            ConsoleLogging = false,
            ListenHost = "127.0.0.1",
            Configuration = new Dictionary<string, string?> { ["Metrics:BearerToken"] = "scrape-token-123" },
        });
        await host.StartListeningAsync(CancellationToken.None);
        var uri = new Uri($"http://127.0.0.1:{port}/metrics");

        using var anonymous = await _http.GetAsync(uri);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "scrape-token-123");
        using var authorized = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        Assert.Contains("# TYPE comfy_operator_leader gauge", await authorized.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"))).StatusCode);
    }

    [Fact]
    public async Task ManagedNodes_SteadyState_ProbesCostNoApiRequests()
    {
        var ns = await _env.CreateNamespaceAsync("quiet");
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", Path.Combine(OperatorEnvironment.RepositoryRoot, "config", "samples", "comfynode-managed.yaml"));
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn/gpu-worker-1", "{.status.phase}"), p => p == ComfyNodePhase.Idle, Timeout, "gpu-worker-1 Idle");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn/gpu-worker-1", "{.status.conditions[?(@.type==\"Ready\")].status}"), s => s == "True", Timeout, "gpu-worker-1 Ready");
        var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var clientMetrics = _operator.Services.GetRequiredService<KubernetesClientMetrics>();
        void Record(object? sender, KubernetesRequestCompletedEventArgs e) => requests.Enqueue($"{e.Verb} {e.Code}");
        clientMetrics.RequestCompleted += Record;
        try
        {
            // Each reconcile of the node is a probe (period 1s); none may read or write the API.
            var before = _operator.Runtime.Reconciles;
            await OperatorEnvironment.WaitForAsync(() => Task.FromResult(_operator.Runtime.Reconciles), n => n >= before + 5, Timeout, "five more probe reconciles");
        }
        finally
        {
            clientMetrics.RequestCompleted -= Record;
        }

        Assert.True(requests.IsEmpty, "API requests in steady state: " + string.Join(", ", requests));
    }

    private async Task ApplyExternalNodeAsync(string ns, string name, string url)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{name}-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, $"""
            apiVersion: comfyoperator.io/v1alpha1
            kind: ComfyNode
            metadata:
              name: {name}
            spec:
              url: {url}
              probe:
                periodSeconds: 1
                timeoutSeconds: 1
                failureThreshold: 2
            """);
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", path);
        File.Delete(path);
    }

    /// <summary>The value of the series <paramref name="name"/>{<paramref name="labels"/>} (no labels: the bare series); 0 when absent.</summary>
    private static double Value(string exposition, string name, string? labels)
    {
        var series = labels is null ? name + " " : name + "{" + labels + "} ";
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series, StringComparison.Ordinal))
            {
                return double.Parse(line[series.Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
