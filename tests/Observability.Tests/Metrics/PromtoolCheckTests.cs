using ComfyOperator.Testing.Prometheus;

namespace ComfyOperator.Observability.Tests.Metrics;

public sealed class PromtoolCheckTests
{
    [Fact]
    public async Task CheckMetrics_EveryMetricKindWithAwkwardLabelsAndDrops_Passes()
    {
        var test = new TestRegistry(o => o.MaxSeriesPerInstrument = 4);
        var runs = test.Factory.CreateCounter("comfy_router_runs_submitted_total", "Runs submitted, by workflow.", "outcome", "workflow");
        var depth = test.Factory.CreateGauge("comfy_router_queue_depth", "Queued runs.", "priority");
        var wait = test.Factory.CreateHistogram("comfy_router_queue_wait_seconds", "Queue wait.", ["workflow"]);
        var bytes = test.Factory.CreateHistogram("comfy_router_upload_size_bytes", "Upload sizes.", [1024, 1048576]);
        var workers = test.Factory.CreateGauge("comfy_router_worker_state", "Worker state \\ with\nnewline.", "state", "worker");
        var leader = test.Factory.CreateGauge("comfy_operator_leader", "Leader.");
        workers.Replace([(["Idle", "http://gpu-1:8188"], 1)], static (g, v) => g.Set(v));
        leader.Set(1);
        for (var i = 0; i < 6; i++)
        {
            runs.WithLabels("succeeded", $"w\"{i}\"\n\\")?.Inc(i);
            depth.WithLabels((i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture))?.Inc(i % 3 - 1);
            wait.WithLabels("sdxl")?.Observe(i * 0.7);
            bytes.Observe(i * 4096);
        }

        var text = await test.ScrapeAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text, timeout.Token);

        Assert.True(exitCode == 0, $"promtool check metrics failed:\n{output}\n---\n{text}");
        Assert.Contains("comfy_metrics_series_dropped_total{metric=\"comfy_router_runs_submitted_total\"} 2", text);
    }
}
