using System.Diagnostics;
using System.Net;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 6 §5: the cost of one scheduling decision with 1,000 workers and 10,000 queued runs — the
/// real <see cref="DispatchQueue"/> + <see cref="RunScheduler"/> (eligibility, labels, model lists,
/// fair share over 50 API keys, the policy), with the queue kept full and the workers' load steady.
/// </summary>
internal static class DecisionCostBench
{
    public static void Run(int workerCount, int queued, int decisions)
    {
        // JIT warm-up of every policy at the measured size, so the first one measured is not the one that pays for tiering.
        foreach (var policy in PlacementPolicyNames.All)
        {
            One(policy, workerCount, queued / 10, decisions, print: false);
        }

        foreach (var policy in PlacementPolicyNames.All)
        {
            One(policy, workerCount, queued, decisions);
        }
    }

    private static void One(string policy, int workerCount, int queued, int decisions, bool print = true)
    {
        var source = new FixedSource([.. Enumerable.Range(0, workerCount).Select(i => new NodeEndpoint(
            new Uri($"http://10.{i / 250}.{i % 250}.1:8188/"), "bench")
        { Labels = new Dictionary<string, string> { ["pool"] = i % 4 == 0 ? "a100" : "l4" } })]);
        var registry = new WorkerRegistry(source, NullLogger<WorkerRegistry>.Instance);
        var routerOptions = Options.Create(new RouterOptions { PlacementPolicy = policy, MaxQueuePerWorker = 1 });
        var routing = Options.Create(new WorkflowRoutingOptions());
        var prober = new HealthProber(registry, new NoHttp(), routerOptions, TimeProvider.System, NullLogger<HealthProber>.Instance);
        var inventory = new WorkerModelInventory(registry, prober, new NoHttp(), routerOptions, routing, TimeProvider.System, NullLogger<WorkerModelInventory>.Instance);
        var catalog = new WorkflowCatalog();
        catalog.Replace(WorkflowSourceNames.File, [BuiltInWorkflows.Find("sd15")! with { Name = "sd15-a100", Selector = new Dictionary<string, string> { ["pool"] = "a100" } }]);
        var all = new Dictionary<string, IReadOnlySet<string>>
        {
            ["checkpoints"] = new HashSet<string> { ReferenceGraphs.Sd15Checkpoint, ReferenceGraphs.SdxlBaseCheckpoint },
            ["diffusion_models"] = new HashSet<string> { ReferenceGraphs.FluxDevUnet },
            ["text_encoders"] = new HashSet<string> { ReferenceGraphs.FluxClipL, ReferenceGraphs.FluxT5xxl },
            ["vae"] = new HashSet<string> { ReferenceGraphs.FluxVae },
            ["loras"] = new HashSet<string>(),
        };
        foreach (var worker in registry.Workers)
        {
            worker.ReportProbeSuccess(DateTimeOffset.UnixEpoch, "bench", []);
            inventory.Record(worker.BaseAddress, all);
        }

        var scheduler = new RunScheduler(registry, source, inventory, new WorkerNodeClasses(registry, prober, new NoHttp(), routerOptions, routing, TimeProvider.System, NullLogger<WorkerNodeClasses>.Instance), catalog, routerOptions, routing, TimeProvider.System, _ => true);
        var queue = new DispatchQueue(scheduler);
        string[] graphs = [ReferenceGraphs.Sd15, ReferenceGraphs.SdxlBase, ReferenceGraphs.FluxDev];
        var sequence = 0L;
        QueuedRun NewRun() => new($"r{sequence}", (int)(sequence % 3), ++sequence)
        {
            Owner = $"key-{sequence % 50}",
            Deployment = sequence % 7 == 0 ? "sd15-a100" : null,
            Workflow = graphs[sequence % 3],
        };

        var enqueue = Stopwatch.GetTimestamp();
        for (var i = 0; i < queued; i++)
        {
            queue.TryEnqueue(NewRun());
        }

        var enqueueMs = Stopwatch.GetElapsedTime(enqueue).TotalMilliseconds;
        var samples = new List<double>(decisions);
        var allocated = 0L;
        for (var i = 0; i < decisions; i++)
        {
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            if (!queue.TryDequeue(out var run, out var worker))
            {
                throw new InvalidOperationException("nothing placeable");
            }

            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            allocated += GC.GetAllocatedBytesForCurrentThread() - bytes;

            // Keep the load steady: the run finishes at once and a new one arrives.
            worker.TryAssign(run.RunId, 1);
            worker.Release(run.RunId);
            queue.TryEnqueue(NewRun());
        }

        samples.Sort();
        if (!print)
        {
            return;
        }

        Console.WriteLine($"decision: {policy,-18} {workerCount} workers × {queue.Count} queued (50 keys, 3 graphs, 1/7 label-selected): " +
            $"mean {samples.Average():0.0} µs, p50 {Percentiles.Of(samples, 50):0.0} µs, p99 {Percentiles.Of(samples, 99):0.0} µs, {allocated / decisions / 1024.0:0.0} KB allocated per decision over {decisions} decisions; " +
            $"enqueue {queued} runs {enqueueMs:0} ms ({enqueueMs * 1000 / queued:0.0} µs/run incl. graph parse)");
    }

    private sealed class FixedSource(IReadOnlyList<NodeEndpoint> nodes) : INodeSource
    {
        public IReadOnlyList<NodeEndpoint> Current => nodes;

        public event EventHandler? Changed { add { } remove { } }
    }

    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new HttpRequestException("no HTTP in the decision bench", null, HttpStatusCode.ServiceUnavailable);
    }
}
