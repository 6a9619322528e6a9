using System.Diagnostics;
using System.Diagnostics.Metrics;
using ComfyOperator.Observability.Prometheus;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Observability.Tests.Prometheus;

public sealed class PrometheusCollectorTests
{
    [Fact]
    public void Scrape_Counter_GetsTotalSuffixHelpTypeAndSortedLabels()
    {
        using var test = new TestMeter();
        var counter = test.Meter.CreateCounter<long>("comfy_router_runs_submitted", description: "Runs accepted.");
        counter.Add(2, new KeyValuePair<string, object?>("workflow", "sdxl"), new KeyValuePair<string, object?>("outcome", "accepted"));
        counter.Add(3, new KeyValuePair<string, object?>("outcome", "accepted"), new KeyValuePair<string, object?>("workflow", "sdxl"));
        counter.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"), new KeyValuePair<string, object?>("workflow", "sdxl"));

        Assert.Equal(
            "# HELP comfy_router_runs_submitted_total Runs accepted.\n" +
            "# TYPE comfy_router_runs_submitted_total counter\n" +
            "comfy_router_runs_submitted_total{outcome=\"accepted\",workflow=\"sdxl\"} 5\n" +
            "comfy_router_runs_submitted_total{outcome=\"rejected\",workflow=\"sdxl\"} 1\n",
            test.Collector.Scrape());
    }

    [Fact]
    public void Scrape_HistogramWithSecondsUnit_WritesCumulativeBucketsInfSumAndCount()
    {
        using var test = new TestMeter(o => o.HistogramBucketsByInstrument["comfy.run.duration"] = [0.1, 1, 10]);
        var histogram = test.Meter.CreateHistogram<double>("comfy.run.duration", unit: "s", description: "Run duration.");
        foreach (var value in new[] { 0.05, 0.1, 0.5, 2, 20 })
        {
            histogram.Record(value, new KeyValuePair<string, object?>("workflow", "a"));
        }

        Assert.Equal(
            "# HELP comfy_run_duration_seconds Run duration.\n" +
            "# TYPE comfy_run_duration_seconds histogram\n" +
            "comfy_run_duration_seconds_bucket{workflow=\"a\",le=\"0.1\"} 2\n" +
            "comfy_run_duration_seconds_bucket{workflow=\"a\",le=\"1\"} 3\n" +
            "comfy_run_duration_seconds_bucket{workflow=\"a\",le=\"10\"} 4\n" +
            "comfy_run_duration_seconds_bucket{workflow=\"a\",le=\"+Inf\"} 5\n" +
            "comfy_run_duration_seconds_sum{workflow=\"a\"} 22.65\n" +
            "comfy_run_duration_seconds_count{workflow=\"a\"} 5\n",
            test.Collector.Scrape());
    }

    [Fact]
    public void Scrape_HistogramWithoutSettings_UsesDefaultSecondsBuckets()
    {
        using var test = new TestMeter();
        test.Meter.CreateHistogram<double>("wait", unit: "s").Record(0.3);

        var text = test.Collector.Scrape();

        Assert.Equal(PrometheusExporterOptions.DefaultHistogramBuckets.Count + 1, text.Split('\n').Count(l => l.StartsWith("wait_seconds_bucket{", StringComparison.Ordinal)));
        Assert.Contains("wait_seconds_bucket{le=\"0.25\"} 0\n", text);
        Assert.Contains("wait_seconds_bucket{le=\"0.5\"} 1\n", text);
        Assert.Contains("wait_seconds_bucket{le=\"1800\"} 1\n", text);
    }

    [Fact]
    public void Scrape_HistogramAdvice_IsUsedWhenNotConfigured()
    {
        using var test = new TestMeter();
        test.Meter.CreateHistogram<long>("upload", unit: "By", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1024, 1048576] }).Record(2000);

        var text = test.Collector.Scrape();

        Assert.Contains("upload_bytes_bucket{le=\"1024\"} 0\n", text);
        Assert.Contains("upload_bytes_bucket{le=\"1048576\"} 1\n", text);
        Assert.Contains("upload_bytes_bucket{le=\"+Inf\"} 1\n", text);
    }

    [Fact]
    public void Scrape_LabelValuesWithBackslashQuoteAndNewline_AreEscaped()
    {
        using var test = new TestMeter();
        test.Meter.CreateCounter<int>("escapes", description: "Help with \\ and\nnewline").Add(1, new KeyValuePair<string, object?>("path", "C:\\dir \"x\"\nnext"));

        Assert.Equal(
            "# HELP escapes_total Help with \\\\ and\\nnewline\n" +
            "# TYPE escapes_total counter\n" +
            "escapes_total{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n",
            test.Collector.Scrape());
    }

    [Fact]
    public void Scrape_DottedNamesAndTags_AreSanitised()
    {
        using var test = new TestMeter();
        test.Meter.CreateUpDownCounter<int>("comfy.queue-depth").Add(4, new KeyValuePair<string, object?>("run.id", 7), new KeyValuePair<string, object?>("__x", true));

        var text = test.Collector.Scrape();

        Assert.Contains("# TYPE comfy_queue_depth gauge\n", text);
        Assert.Contains("comfy_queue_depth{tag__x=\"true\",run_id=\"7\"} 4\n", text);
    }

    [Fact]
    public void Scrape_UpDownCounter_GoesDown()
    {
        using var test = new TestMeter();
        var gauge = test.Meter.CreateUpDownCounter<long>("in_flight", unit: "By");
        gauge.Add(10);
        gauge.Add(-7);

        Assert.Contains("in_flight_bytes 3\n", test.Collector.Scrape());
    }

    [Fact]
    public void Scrape_CounterNameAlreadyEndingInTotal_IsNotDoubled()
    {
        using var test = new TestMeter();
        test.Meter.CreateCounter<long>("kubernetes_client_requests_total").Add(1);
        test.Meter.CreateObservableCounter("cpu", () => 1.5, unit: "s");

        var text = test.Collector.Scrape();

        Assert.Contains("kubernetes_client_requests_total 1\n", text);
        Assert.DoesNotContain("_total_total", text);
        Assert.Contains("# TYPE cpu_seconds_total counter\ncpu_seconds_total 1.5\n", text);
    }

    [Fact]
    public void Scrape_ObservableGauge_ReportsOnlyWhatTheCallbackReturnsNow()
    {
        using var test = new TestMeter();
        var workers = new List<string> { "w1", "w2" };
        test.Meter.CreateObservableGauge("workers", () => workers.Select(w => new Measurement<int>(1, new KeyValuePair<string, object?>("worker", w))));

        var first = test.Collector.Scrape();
        workers.Remove("w2");
        var second = test.Collector.Scrape();

        Assert.Contains("workers{worker=\"w2\"} 1\n", first);
        Assert.Contains("workers{worker=\"w1\"} 1\n", second);
        Assert.DoesNotContain("w2", second);
    }

    [Fact]
    public void Scrape_SyncGauge_KeepsLastValue()
    {
        using var test = new TestMeter();
        var gauge = test.Meter.CreateGauge<double>("leader");
        gauge.Record(1);
        gauge.Record(0);

        Assert.Contains("leader 0\n", test.Collector.Scrape());
    }

    [Fact]
    public void Record_MoreLabelSetsThanTheCap_DropsAndCountsThem()
    {
        using var test = new TestMeter(o => o.MaxSeriesPerInstrument = 3);
        var counter = test.Meter.CreateCounter<long>("by_user");
        for (var i = 0; i < 10; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("user", "u" + i));
        }

        counter.Add(1, new KeyValuePair<string, object?>("user", "u0"));
        var text = test.Collector.Scrape();

        Assert.Equal(3, text.Split('\n').Count(l => l.StartsWith("by_user_total{", StringComparison.Ordinal)));
        Assert.Contains("by_user_total{user=\"u0\"} 2\n", text);
        Assert.Contains("comfy_metrics_series_dropped_total{metric=\"by_user_total\"} 7\n", text);
    }

    [Fact]
    public void Record_NegativeCounterIncrement_IsIgnored()
    {
        using var test = new TestMeter();
        var counter = test.Meter.CreateCounter<int>("mono");
        counter.Add(5);
        counter.Add(-3);

        Assert.Contains("mono_total 5\n", test.Collector.Scrape());
    }

    [Fact]
    public async Task Record_FromManyThreads_LosesNoIncrement()
    {
        using var test = new TestMeter(o => o.HistogramBucketsByInstrument["h"] = [1]);
        var counter = test.Meter.CreateCounter<double>("parallel");
        var histogram = test.Meter.CreateHistogram<double>("h");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.Add(0.5, new KeyValuePair<string, object?>("t", t % 2));
                histogram.Record(i % 2 == 0 ? 0.5 : 2);
            }
        })));

        var text = test.Collector.Scrape();

        Assert.Contains("parallel_total{t=\"0\"} 20000\n", text);
        Assert.Contains("parallel_total{t=\"1\"} 20000\n", text);
        Assert.Contains("h_bucket{le=\"1\"} 40000\n", text);
        Assert.Contains("h_count 80000\n", text);
    }

    [Fact]
    public void Collector_WithMeterFactory_ExportsOnlyThatFactorysMeters()
    {
        using var first = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var second = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var firstFactory = first.GetRequiredService<IMeterFactory>();
        using var collector = new PrometheusCollector(new PrometheusExporterOptions(), firstFactory);
        firstFactory.Create("ComfyOperator.Scoped").CreateCounter<int>("mine").Add(1);
        second.GetRequiredService<IMeterFactory>().Create("ComfyOperator.Scoped").CreateCounter<int>("theirs").Add(1);
        new Meter("Other.Prefix").CreateCounter<int>("other").Add(1);

        var text = collector.Scrape();

        Assert.Contains("mine_total 1\n", text);
        Assert.DoesNotContain("theirs", text);
        Assert.DoesNotContain("other", text);
    }

    [Fact]
    public void Collector_MeterDisposed_FamilyDisappears()
    {
        using var test = new TestMeter();
        var extra = new Meter(test.Meter.Name + ".extra");
        extra.CreateCounter<int>("gone").Add(1);
        test.Meter.CreateCounter<int>("stays").Add(1);

        extra.Dispose();
        var text = test.Collector.Scrape();

        Assert.DoesNotContain("gone", text);
        Assert.Contains("stays_total 1", text);
    }

    [Fact]
    public void Scrape_TagListWithMixedValueTypes_UsesInvariantFormatting()
    {
        using var test = new TestMeter();
        var tags = new TagList { { "code", 404 }, { "ratio", 0.5 }, { "kind", DayOfWeek.Monday }, { "none", null } };
        test.Meter.CreateCounter<long>("mixed").Add(1, tags);

        Assert.Contains("mixed_total{code=\"404\",kind=\"Monday\",none=\"\",ratio=\"0.5\"} 1\n", test.Collector.Scrape());
    }
}
