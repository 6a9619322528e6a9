using System.Diagnostics;
using System.Globalization;
using ComfyOperator.Observability.Metrics;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.Options;
using Prometheus;

namespace ComfyOperator.Observability.Bench;

/// <summary>
/// Cost of the router's metrics on prometheus-net: recording one run (the event-driven path: queued,
/// dispatching, started, 20 progress events, succeeded, one HTTP request; and the bare metric calls),
/// and a full scrape, also with 1,000 workers' series. Prints ns and bytes allocated per run or scrape.
/// Usage: dotnet run -c Release --project bench/Observability.Bench [runs]
/// </summary>
internal static class Program
{
    private const int ProgressEvents = 20;
    private const int RunPool = 1000;

    public static void Main(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new RouterMetrics(new CappedMetricFactory(registry, Options.Create(new MetricsOptions())));
        var observer = new RunMetricsObserver(metrics);
        metrics.ObserveQueue(observer.QueueDepth);
        var events = BuildEvents();

        Measure("event path (observer + instruments), per run", runs, i => Replay(observer, metrics, events[i % RunPool]));
        Measure("instrument calls only, per run", runs, i => Direct(metrics, i));
        var scrapeBytes = 0;
        Measure("scrape (full exposition), per scrape", 2000, _ => scrapeBytes = Scrape(registry));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exposition size: {scrapeBytes} bytes"));

        var workers = Enumerable.Range(0, 1000).Select(static w => $"http://10.0.{w / 250}.{w % 250}:8188").ToArray();
        metrics.ObserveWorkers(() => workers.Select(static (w, i) => (w, RouterMetrics.WorkerStates[i % 3])));
        foreach (var worker in workers)
        {
            metrics.RunDispatched("adhoc", worker, TimeSpan.FromSeconds(1));
            metrics.CheckpointSwitched(worker);
        }

        Measure("scrape with 1,000 workers (state + dispatch + checkpoint series), per scrape", 200, _ => scrapeBytes = Scrape(registry));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exposition size with 1,000 workers: {scrapeBytes} bytes"));
    }

    /// <summary>What the endpoint does per scrape: run the callbacks, serialize every family.</summary>
    private static int Scrape(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return (int)stream.Length;
    }

    private static void Replay(RunMetricsObserver observer, RouterMetrics metrics, RunEvent[] events)
    {
        foreach (var runEvent in events)
        {
            observer.OnEvent(runEvent);
        }

        metrics.HttpRequest("/v1/runs", "POST", 202, TimeSpan.FromMilliseconds(3));
    }

    private static void Direct(RouterMetrics metrics, int i)
    {
        var worker = (i & 3) switch { 0 => "http://gpu-0:8188", 1 => "http://gpu-1:8188", 2 => "http://gpu-2:8188", _ => "http://gpu-3:8188" };
        metrics.HttpRequest("/v1/runs", "POST", 202, TimeSpan.FromMilliseconds(3));
        metrics.RunSubmitted("adhoc");
        metrics.RunDispatched("adhoc", worker, TimeSpan.FromSeconds(1.5));
        metrics.FirstProgress("adhoc", TimeSpan.FromSeconds(0.4));
        metrics.RunFinished("adhoc", "succeeded", TimeSpan.FromSeconds(12));
    }

    private static void Measure(string what, int iterations, Action<int> action)
    {
        for (var i = 0; i < Math.Min(iterations, 5000); i++)
        {
            action(i);
        }

        GC.Collect();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            action(i);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {elapsed.TotalNanoseconds / iterations:0} ns, {(double)allocated / iterations:0} B allocated ({iterations} iterations)"));
    }

    private static RunEvent[][] BuildEvents()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var all = new RunEvent[RunPool][];
        for (var r = 0; r < RunPool; r++)
        {
            var id = Guid.CreateVersion7(start).ToString("D");
            var worker = $"http://gpu-{r % 4}:8188";
            var list = new List<RunEvent>
            {
                new(id, 1, RunEventTypes.Queued, "{\"status\":\"queued\",\"priority\":0}", start),
                new(id, 2, RunEventTypes.Dispatching, $"{{\"worker\":\"{worker}\",\"promptId\":\"{id}\",\"attempt\":1}}", start.AddSeconds(1)),
                new(id, 3, RunEventTypes.Started, $"{{\"worker\":\"{worker}\",\"promptId\":\"{id}\",\"attempt\":1}}", start.AddSeconds(1.2)),
            };
            for (var p = 0; p < ProgressEvents; p++)
            {
                list.Add(new(id, 4 + p, RunEventTypes.Progress, "{\"node\":\"3\",\"value\":1,\"max\":20,\"fraction\":0.05}", start.AddSeconds(1.5 + p)));
            }

            list.Add(new(id, 4 + ProgressEvents, RunEventTypes.Succeeded, "{\"outputs\":1}", start.AddSeconds(30)));
            all[r] = [.. list];
        }

        return all;
    }
}
