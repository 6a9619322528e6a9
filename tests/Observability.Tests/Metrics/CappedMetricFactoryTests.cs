using ComfyOperator.Observability.Metrics;

namespace ComfyOperator.Observability.Tests.Metrics;

public sealed class CappedMetricFactoryTests
{
    [Fact]
    public async Task Scrape_LabelledCounter_WritesHelpTypeAndLabelsInDeclaredOrder()
    {
        var test = new TestRegistry();
        var runs = test.Factory.CreateCounter("comfy_router_runs_finished_total", "Runs finished.", "outcome", "workflow");
        runs.WithLabels("succeeded", "sdxl")!.Inc(2);

        var text = await test.ScrapeAsync();

        Assert.Contains("# HELP comfy_router_runs_finished_total Runs finished.\n# TYPE comfy_router_runs_finished_total counter\ncomfy_router_runs_finished_total{outcome=\"succeeded\",workflow=\"sdxl\"} 2\n", text);
    }

    [Fact]
    public async Task Scrape_HistogramWithoutBuckets_UsesDefaultSecondsBuckets()
    {
        var test = new TestRegistry();
        test.Factory.CreateHistogram("wait_seconds", "Wait.").Observe(0.3);

        var text = await test.ScrapeAsync();

        Assert.Equal(MetricsOptions.DefaultHistogramBuckets.Count + 1, text.Split('\n').Count(l => l.StartsWith("wait_seconds_bucket{", StringComparison.Ordinal)));
        Assert.Contains("wait_seconds_bucket{le=\"0.25\"} 0\n", text);
        Assert.Contains("wait_seconds_bucket{le=\"0.5\"} 1\n", text);
        Assert.Contains("wait_seconds_bucket{le=\"1800\"} 1\n", text);
        Assert.Contains("wait_seconds_bucket{le=\"+Inf\"} 1\n", text);
        Assert.Contains("wait_seconds_sum 0.3\n", text);
        Assert.Contains("wait_seconds_count 1\n", text);
    }

    [Fact]
    public async Task Scrape_HistogramBucketSettings_WinInOrderPerMetricOwnGlobal()
    {
        var test = new TestRegistry(o =>
        {
            o.HistogramBuckets.Add(7);
            o.HistogramBucketsByInstrument["configured_seconds"] = [0.1, 1, 10];
        });
        test.Factory.CreateHistogram("configured_seconds", "Per metric.", [2, 3]).Observe(0.5);
        test.Factory.CreateHistogram("upload_bytes", "Own buckets.", [1024, 1048576]).Observe(2000);
        test.Factory.CreateHistogram("global_seconds", "Global.").Observe(1);

        var text = await test.ScrapeAsync();

        Assert.Contains("configured_seconds_bucket{le=\"0.1\"} 0\nconfigured_seconds_bucket{le=\"1\"} 1\nconfigured_seconds_bucket{le=\"10\"} 1\nconfigured_seconds_bucket{le=\"+Inf\"} 1\n", text);
        Assert.Contains("upload_bytes_bucket{le=\"1024\"} 0\nupload_bytes_bucket{le=\"1048576\"} 1\nupload_bytes_bucket{le=\"+Inf\"} 1\n", text);
        Assert.Contains("global_seconds_bucket{le=\"7\"} 1\nglobal_seconds_bucket{le=\"+Inf\"} 1\n", text);
    }

    [Fact]
    public async Task Scrape_LabelValuesWithBackslashQuoteAndNewline_AreEscaped()
    {
        var test = new TestRegistry();
        test.Factory.CreateCounter("escapes_total", "Help.", "path").WithLabels("C:\\dir \"x\"\nnext")!.Inc();

        Assert.Contains("escapes_total{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n", await test.ScrapeAsync());
    }

    [Fact]
    public async Task WithLabels_MoreLabelSetsThanTheCap_DropsAndCountsThem()
    {
        var test = new TestRegistry(o => o.MaxSeriesPerInstrument = 3);
        var byUser = test.Factory.CreateCounter("by_user_total", "By user.", "user");
        Assert.DoesNotContain("comfy_metrics_series_dropped_total", await test.ScrapeAsync());

        for (var i = 0; i < 10; i++)
        {
            byUser.WithLabels("u" + (i % 10))?.Inc();
        }

        byUser.WithLabels("u0")?.Inc();
        var text = await test.ScrapeAsync();

        Assert.Equal(3, text.Split('\n').Count(l => l.StartsWith("by_user_total{", StringComparison.Ordinal)));
        Assert.Contains("by_user_total{user=\"u0\"} 2\n", text);
        Assert.Contains("# TYPE comfy_metrics_series_dropped_total counter\ncomfy_metrics_series_dropped_total{metric=\"by_user_total\"} 7\n", text);
    }

    [Fact]
    public async Task Replace_SeriesNotReportedAgain_Disappear()
    {
        var test = new TestRegistry();
        var workers = test.Factory.CreateGauge("workers", "Workers.", "worker");

        workers.Replace([(["w1"], 1), (["w2"], 1)], static (g, v) => g.Set(v));
        var first = await test.ScrapeAsync();
        workers.Replace([(["w1"], 3)], static (g, v) => g.Set(v));
        var second = await test.ScrapeAsync();

        Assert.Contains("workers{worker=\"w2\"} 1\n", first);
        Assert.Contains("workers{worker=\"w1\"} 3\n", second);
        Assert.DoesNotContain("w2", second);
    }

    [Fact]
    public async Task Replace_MoreSeriesThanTheCap_KeepsTheCapAndCountsDrops()
    {
        var test = new TestRegistry(o => o.MaxSeriesPerInstrument = 2);
        var workers = test.Factory.CreateGauge("workers", "Workers.", "worker");

        workers.Replace([(["a"], 1), (["b"], 1)], static (g, v) => g.Set(v));
        workers.Replace([(["c"], 1), (["d"], 1), (["e"], 1)], static (g, v) => g.Set(v));
        var text = await test.ScrapeAsync();

        Assert.Equal(2, text.Split('\n').Count(l => l.StartsWith("workers{", StringComparison.Ordinal)));
        Assert.DoesNotContain("worker=\"a\"", text);
        Assert.Contains("comfy_metrics_series_dropped_total{metric=\"workers\"} 1\n", text);
    }

    [Fact]
    public async Task WithLabels_FromManyThreads_LosesNoIncrementAndCreatesOneSeriesEach()
    {
        var test = new TestRegistry();
        var counter = test.Factory.CreateCounter("parallel_total", "Parallel.", "t");

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 20000; i++)
            {
                counter.WithLabels((i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture))!.Inc();
            }
        })));
        var text = await test.ScrapeAsync();

        Assert.Contains("parallel_total{t=\"0\"} 40000\n", text);
        Assert.Contains("parallel_total{t=\"1\"} 40000\n", text);
        Assert.DoesNotContain("comfy_metrics_series_dropped_total", text);
    }

    [Fact]
    public async Task Registries_OfTwoHosts_DoNotSeeEachOthersSeries()
    {
        var mine = new TestRegistry();
        var theirs = new TestRegistry();
        mine.Factory.CreateCounter("mine_total", "Mine.").Inc();
        theirs.Factory.CreateCounter("theirs_total", "Theirs.").Inc();

        var text = await mine.ScrapeAsync();

        Assert.Contains("mine_total 1\n", text);
        Assert.DoesNotContain("theirs", text);
    }
}
