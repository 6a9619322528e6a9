using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Tests.Nodes;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.Scheduling;

public sealed class RunSchedulerTests
{
    private readonly FixedSource _source = new(
    [
        new NodeEndpoint(new Uri("http://a100:8188/"), "test") { Labels = new Dictionary<string, string> { ["gpu"] = "a100" } },
        new NodeEndpoint(new Uri("http://l4:8188/"), "test") { Labels = new Dictionary<string, string> { ["gpu"] = "l4" }, MaxQueue = 1 },
    ]);

    private readonly WorkflowCatalog _catalog = new();
    private readonly WorkerRegistry _registry;
    private readonly WorkerModelInventory _inventory;
    private readonly WorkerNodeClasses _classes;
    private readonly RunScheduler _scheduler;
    private readonly DispatchQueue _queue;
    private long _sequence;

    public RunSchedulerTests()
    {
        _registry = new WorkerRegistry(_source, NullLogger<WorkerRegistry>.Instance);
        var router = Options.Create(new RouterOptions { PlacementPolicy = PlacementPolicyNames.RoundRobin, MaxQueuePerWorker = 3 });
        var routing = Options.Create(new WorkflowRoutingOptions());
        var prober = new HealthProber(_registry, new NoHttp(), router, TimeProvider.System, NullLogger<HealthProber>.Instance);
        _inventory = new WorkerModelInventory(_registry, prober, new NoHttp(), router, routing, TimeProvider.System, NullLogger<WorkerModelInventory>.Instance);
        foreach (var worker in _registry.Workers)
        {
            worker.ReportProbeSuccess(DateTimeOffset.UnixEpoch, "test", []);
        }

        _classes = new WorkerNodeClasses(_registry, prober, new NoHttp(), router, routing, TimeProvider.System, NullLogger<WorkerNodeClasses>.Instance);
        Record("a100", ReferenceGraphs.Sd15Checkpoint, ReferenceGraphs.SdxlBaseCheckpoint);
        Record("l4", ReferenceGraphs.Sd15Checkpoint);
        _scheduler = new RunScheduler(_registry, _source, _inventory, _classes, _catalog, router, routing, TimeProvider.System, _ => true);
        _queue = new DispatchQueue(_scheduler);
    }

    private WorkerState Worker(string host) => _registry.Workers.Single(w => w.BaseAddress.Host == host);

    private void Record(string host, params string[] checkpoints) =>
        _inventory.Record(new Uri($"http://{host}:8188/"), new Dictionary<string, IReadOnlySet<string>>
        {
            ["checkpoints"] = new HashSet<string>(checkpoints),
            ["diffusion_models"] = new HashSet<string>(),
            ["text_encoders"] = new HashSet<string>(),
            ["vae"] = new HashSet<string>(),
            ["loras"] = new HashSet<string>(),
        });

    private string Enqueue(string graph, string? deployment = null)
    {
        var id = $"run-{++_sequence}";
        _queue.TryEnqueue(new QueuedRun(id, 0, _sequence) { Owner = "k", Deployment = deployment, Workflow = graph });
        return id;
    }

    private (string RunId, WorkerState Worker)? Next()
    {
        if (!_queue.TryDequeue(out var run, out var worker))
        {
            return null;
        }

        worker.TryAssign(run.RunId, 3);
        return (run.RunId, worker);
    }

    [Fact]
    public void Place_ModelOnlyOnOneWorker_GoesThere()
    {
        Enqueue(ReferenceGraphs.SdxlBase);
        Enqueue(ReferenceGraphs.SdxlBase);

        Assert.Equal("a100", Next()!.Value.Worker.BaseAddress.Host);
        Assert.Equal("a100", Next()!.Value.Worker.BaseAddress.Host);
    }

    [Fact]
    public void Place_ModelNoWorkerHas_WaitsUntilAWorkerHasIt()
    {
        Enqueue(ReferenceGraphs.FluxDev);
        Assert.Null(Next());

        _inventory.Record(new Uri("http://l4:8188/"), new Dictionary<string, IReadOnlySet<string>>
        {
            ["checkpoints"] = new HashSet<string>(),
            ["diffusion_models"] = new HashSet<string> { ReferenceGraphs.FluxDevUnet },
            ["text_encoders"] = new HashSet<string> { ReferenceGraphs.FluxClipL, ReferenceGraphs.FluxT5xxl },
            ["vae"] = new HashSet<string> { ReferenceGraphs.FluxVae },
            ["loras"] = new HashSet<string>(),
        });

        Assert.Equal("l4", Next()!.Value.Worker.BaseAddress.Host);
    }

    [Fact]
    public void Place_ModelRemovedFromTheOnlyWorkerThatHadIt_NextRunWaits()
    {
        Enqueue(ReferenceGraphs.SdxlBase);
        Assert.Equal("a100", Next()!.Value.Worker.BaseAddress.Host);

        // Placed once, the a100 was found compatible; its new lists (the model deleted) must count at once.
        Record("a100", ReferenceGraphs.Sd15Checkpoint);
        Enqueue(ReferenceGraphs.SdxlBase);
        Assert.Null(Next());
        Assert.False(_scheduler.CanRunNow(null, RunGraph.TryParse(ReferenceGraphs.SdxlBase)!.Models));

        Record("l4", ReferenceGraphs.Sd15Checkpoint, ReferenceGraphs.SdxlBaseCheckpoint);
        Assert.True(_scheduler.CanRunNow(null, RunGraph.TryParse(ReferenceGraphs.SdxlBase)!.Models));
        Assert.Equal("l4", Next()!.Value.Worker.BaseAddress.Host);
    }

    [Fact]
    public void Place_DeploymentSelector_OnlyMatchingLabels()
    {
        _catalog.Replace(WorkflowSourceNames.File, [BuiltInWorkflows.Find("sd15")! with { Name = "on-l4", Selector = new Dictionary<string, string> { ["gpu"] = "l4" } }]);
        Enqueue(ReferenceGraphs.Sd15, "on-l4");
        Enqueue(ReferenceGraphs.Sd15, "on-l4");
        Enqueue(ReferenceGraphs.Sd15, "on-l4");

        Assert.Equal("l4", Next()!.Value.Worker.BaseAddress.Host);
        Assert.Equal("l4", Next()!.Value.Worker.BaseAddress.Host);

        // The l4 node's own maxQueue (1) is reached: one running + one queued; the third waits.
        Assert.Null(Next());
        var readiness = _scheduler.Readiness(new Dictionary<string, string> { ["gpu"] = "h100" }, []);
        Assert.Contains("has the labels gpu=h100", readiness.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Place_DeploymentPolicyOverride_UsesItsOwnPolicy()
    {
        // Router default RoundRobin would alternate; the deployment's ModelAffinity keeps the
        // checkpoint where it was loaded while that worker is no busier than a load is worth.
        _catalog.Replace(WorkflowSourceNames.File, [BuiltInWorkflows.Find("sd15")! with { Name = "sticky", PlacementPolicy = PlacementPolicyNames.ModelAffinity }]);
        var raw = Enqueue(ReferenceGraphs.Sd15);
        var first = Next()!.Value;
        first.Worker.Release(raw);

        var placements = new List<WorkerState>();
        for (var i = 0; i < 3; i++)
        {
            var sticky = Enqueue(ReferenceGraphs.Sd15, "sticky");
            var placed = Next()!.Value;
            placements.Add(placed.Worker);
            placed.Worker.Release(sticky);
        }

        // A raw run still goes round robin: the other worker this time.
        Enqueue(ReferenceGraphs.Sd15);
        var next = Next()!.Value.Worker;

        Assert.All(placements, w => Assert.Same(first.Worker, w));
        Assert.NotSame(first.Worker, next);
        Assert.EndsWith(ReferenceGraphs.Sd15Checkpoint, _scheduler.LastModel(first.Worker), StringComparison.Ordinal);
    }

    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new HttpRequestException("no HTTP here");
    }
}
