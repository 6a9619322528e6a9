using ComfyOperator.Operator.Metrics;
using ComfyOperator.Testing.Prometheus;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Operator.Tests.Metrics;

public sealed class OperatorMetricsTests
{
    [Fact]
    public async Task Metrics_ReconcilesProbesAndLeader_AppearOnTheOperatorsOwnPort()
    {
        await using var host = await OperatorMetricsHost.StartAsync();
        var metrics = host.Services.GetRequiredService<OperatorMetrics>();
        metrics.ObserveNodes(() => [("Ready", 2), ("Pending", 1)]);

        metrics.Reconciled("ComfyNode", "success", TimeSpan.FromMilliseconds(30));
        metrics.Reconciled("ComfyNode", "success", TimeSpan.FromMilliseconds(70));
        metrics.Reconciled("WorkflowDeployment", "error", TimeSpan.FromSeconds(2));
        metrics.ObserveQueue("ComfyNode", () => 1);
        metrics.Retried("WorkflowDeployment");
        metrics.Probed(TimeSpan.FromMilliseconds(12), null);
        metrics.Probed(TimeSpan.FromSeconds(5), "timeout");
        metrics.LeaderChanged(true);
        using var client = new HttpClient();

        var text = await client.GetStringAsync(host.MetricsUri);

        Assert.Contains("comfy_operator_reconciles_total{kind=\"ComfyNode\",result=\"success\"} 2\n", text);
        Assert.Contains("comfy_operator_reconciles_total{kind=\"WorkflowDeployment\",result=\"error\"} 1\n", text);
        Assert.Contains("comfy_operator_reconcile_duration_seconds_bucket{kind=\"ComfyNode\",le=\"0.05\"} 1\n", text);
        Assert.Contains("comfy_operator_reconcile_duration_seconds_count{kind=\"ComfyNode\"} 2\n", text);
        Assert.Contains("comfy_operator_workqueue_depth{kind=\"ComfyNode\"} 1\n", text);
        Assert.Contains("comfy_operator_workqueue_retries_total{kind=\"WorkflowDeployment\"} 1\n", text);
        Assert.Contains("comfy_operator_probe_failures_total{reason=\"timeout\"} 1\n", text);
        Assert.Contains("comfy_operator_probe_duration_seconds_count 2\n", text);
        Assert.Contains("comfy_operator_nodes{phase=\"Ready\"} 2\n", text);
        Assert.Contains("comfy_operator_leader 1\n", text);
    }

    [Fact]
    public async Task Metrics_KubernetesApiRequests_AreExportedByVerbAndCode()
    {
        await using var host = await OperatorMetricsHost.StartAsync();
        var metrics = host.Services.GetRequiredService<OperatorMetrics>();
        using var http = new HttpClient();
        Assert.Contains("# TYPE kubernetes_client_requests_total counter\n", await http.GetStringAsync(host.MetricsUri));

        metrics.KubernetesRequest("patch", "200", TimeSpan.FromMilliseconds(20));
        metrics.KubernetesRequest("patch", "200", TimeSpan.FromMilliseconds(40));
        metrics.KubernetesRequest("watch", "error", TimeSpan.FromSeconds(3));
        var text = await http.GetStringAsync(host.MetricsUri);

        Assert.Contains("kubernetes_client_requests_total{code=\"200\",verb=\"patch\"} 2\n", text);
        Assert.Contains("kubernetes_client_requests_total{code=\"error\",verb=\"watch\"} 1\n", text);
        Assert.Contains("# TYPE kubernetes_client_request_duration_seconds histogram\n", text);
        Assert.Contains("kubernetes_client_request_duration_seconds_bucket{code=\"200\",verb=\"patch\",le=\"0.025\"} 1\n", text);
        Assert.Contains("kubernetes_client_request_duration_seconds_count{code=\"200\",verb=\"patch\"} 2\n", text);
    }

    [Fact]
    public async Task Metrics_UnderLoad_PassesPromtool()
    {
        await using var host = await OperatorMetricsHost.StartAsync();
        var metrics = host.Services.GetRequiredService<OperatorMetrics>();
        metrics.ObserveNodes(() => [("Ready", 3), ("Failed", 1)]);
        metrics.KubernetesRequest("get", "404", TimeSpan.FromMilliseconds(3));
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                metrics.Reconciled(i % 2 == 0 ? "ComfyNode" : "WorkflowDeployment", i % 7 == 0 ? "requeue" : "success", TimeSpan.FromMilliseconds(i));
                metrics.Probed(TimeSpan.FromMilliseconds(i % 50), i % 11 == 0 ? "http" : null);
            }
        })));
        using var http = new HttpClient();

        var text = await http.GetStringAsync(host.MetricsUri);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text, timeout.Token);

        Assert.True(exitCode == 0, $"promtool check metrics failed:\n{output}\n---\n{text}");
        Assert.Contains("comfy_operator_reconciles_total{kind=\"ComfyNode\",result=\"success\"}", text);
    }
}
