using System.Diagnostics.Metrics;
using ComfyOperator.Testing.Prometheus;

namespace ComfyOperator.Observability.Tests.Prometheus;

public sealed class PromtoolCheckTests
{
    [Fact]
    public async Task CheckMetrics_EveryInstrumentKindWithAwkwardLabels_Passes()
    {
        using var test = new TestMeter(o => o.MaxSeriesPerInstrument = 4);
        var runs = test.Meter.CreateCounter<long>("comfy_router_runs_submitted", description: "Runs submitted, by workflow.");
        var depth = test.Meter.CreateUpDownCounter<int>("comfy_router_queue_depth", description: "Queued runs.");
        var wait = test.Meter.CreateHistogram<double>("comfy_router_queue_wait", unit: "s", description: "Queue wait.");
        var bytes = test.Meter.CreateHistogram<long>("comfy_router_upload_size", unit: "By", description: "Upload sizes.");
        test.Meter.CreateObservableGauge("comfy_router_worker_state", () => new Measurement<int>(1, new KeyValuePair<string, object?>("worker", "http://gpu-1:8188"), new KeyValuePair<string, object?>("state", "Idle")), description: "Worker state.");
        test.Meter.CreateObservableCounter("comfy_process_cpu", () => 12.5, unit: "s", description: "CPU time \\ with\nnewline.");
        test.Meter.CreateObservableUpDownCounter("comfy_router_downloads_in_flight", () => 2L, description: "Downloads.");
        test.Meter.CreateGauge<int>("comfy_operator_leader", description: "Leader.").Record(1);
        for (var i = 0; i < 6; i++)
        {
            runs.Add(i, new KeyValuePair<string, object?>("workflow", $"w\"{i}\"\n\\"), new KeyValuePair<string, object?>("outcome", "succeeded"));
            depth.Add(i % 3 - 1, new KeyValuePair<string, object?>("priority", i % 2));
            wait.Record(i * 0.7, new KeyValuePair<string, object?>("workflow", "sdxl"));
            bytes.Record(i * 4096);
        }

        var text = test.Collector.Scrape();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text, timeout.Token);

        Assert.True(exitCode == 0, $"promtool check metrics failed:\n{output}\n---\n{text}");
        Assert.Contains("comfy_metrics_series_dropped_total", text);
    }
}
