using System.Diagnostics;
using System.Globalization;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Observability.Metrics;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 14 §8, the output copy of a run: a small output (2 KB, the size of the lifecycle bench's 64×64 PNG)
/// saved by <see cref="LocalDirectoryOutputStore"/> into a directory of its own run, from memory (the store
/// alone) and from <see cref="ComfyClient.ViewAsync"/> against a Kestrel server on 127.0.0.1 (the copy as a
/// run makes it), and through <see cref="RunOutputFetcher"/> as an attempt copies. CPU and thread-pool work items (each a hop from one thread to another) are this process's, the
/// server's share included in the second row. Prints figures;
/// asserts nothing about time.
/// </summary>
internal static class OutputStoreBench
{
    private const int Size = 2048;

    public static async Task RunAsync(int outputs, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("comfy-outputbench-").FullName;
        try
        {
            var bytes = new byte[Size];
            new Random(7).NextBytes(bytes);
            var (app, address) = await LoopbackServer.StartAsync(app => app.MapGet("/view", () => TypedResults.Bytes(bytes, "image/png")), cancellationToken);
            await using var server = app;
            using var client = new ComfyClient(address);
            var file = new ComfyFileRef("ComfyUI_00001_.png", "bench", "output");

            Console.WriteLine($"Local output store: {outputs} outputs of {Size} B, each the first output of a new run; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine("  source                        CPU µs/output   wall p50 µs   wall p99 µs   pool work items/output");
            var store = new LocalDirectoryOutputStore(Path.Combine(root, "memory"));
            await MeasureAsync("from memory", outputs, async run =>
            {
                using var content = new MemoryStream(bytes, writable: false);
                _ = await store.SaveAsync(run, "9/ComfyUI_00001_.png", content, cancellationToken);
            });

            var viewed = new LocalDirectoryOutputStore(Path.Combine(root, "view"));
            await MeasureAsync("GET /view over loopback", outputs, async run =>
            {
                await using var content = await client.ViewAsync(file, cancellationToken);
                _ = await viewed.SaveAsync(run, "9/ComfyUI_00001_.png", content.Content, cancellationToken);
            });

            // As an attempt copies: announced at `executed`, then awaited at the prompt's end, kept, and the attempt ends.
            var fetched = new RunOutputWriter(
                new LocalDirectoryOutputStore(Path.Combine(root, "fetched")),
                new WorkflowCatalog(),
                new RouterMetrics(new CappedMetricFactory(Prometheus.Metrics.NewCustomRegistry(), Options.Create(new MetricsOptions()))));
            await MeasureAsync("RunOutputFetcher, GET /view", outputs, async run =>
            {
                var fetcher = new RunOutputFetcher(new RunRecord { Id = run, Workflow = "{}" }, client, fetched, NullLogger.Instance, cancellationToken);
                await using (fetcher)
                {
                    fetcher.Announce("9", file);
                    var copy = await fetcher.GetAsync("9", file, cancellationToken);
                    fetcher.Keep(copy.Output ?? throw new InvalidOperationException("the copy failed", copy.FetchError ?? copy.StoreError));
                }
            });
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task MeasureAsync(string label, int outputs, Func<string, Task> save)
    {
        // Warm-up: JIT, the connection.
        for (var i = 0; i < 200; i++)
        {
            await save($"warm{i}");
        }

        var samples = new List<double>(outputs);
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var workItems = ThreadPool.CompletedWorkItemCount;
        for (var i = 0; i < outputs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await save($"run{i}");
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        process.Refresh();
        var used = process.TotalProcessorTime - cpu;
        var items = ThreadPool.CompletedWorkItemCount - workItems;
        samples.Sort();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {label,-28} {used.TotalMicroseconds / outputs,14:F1} {Percentiles.Of(samples, 50),13:F1} {Percentiles.Of(samples, 99),13:F1} {(double)items / outputs,24:F2}"));
    }
}
