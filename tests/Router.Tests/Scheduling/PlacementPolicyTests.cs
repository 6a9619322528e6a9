using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Scheduling;

namespace ComfyOperator.Router.Tests.Scheduling;

public sealed class PlacementPolicyTests
{
    private static WorkerState Worker(int n, int assigned = 0)
    {
        var worker = new WorkerState(new NodeEndpoint(new Uri($"http://gpu{n}:8188/"), "test"));
        for (var i = 0; i < assigned; i++)
        {
            worker.ForceAssign($"run-{n}-{i}");
        }

        return worker;
    }

    private static PlacementContext Context(string? model, Dictionary<WorkerState, string> last, double loadCost = 1.0) =>
        new(new QueuedRun("r", 0, 1), new RunRequirements { Key = model ?? string.Empty, AffinityModel = model }, w => last.GetValueOrDefault(w), loadCost);

    [Fact]
    public void PowerOfTwoChoices_PicksTheLessLoadedOfTwo()
    {
        var policy = new PowerOfTwoChoicesPolicy(seed: 1);
        var idle = Worker(1);
        var busy = Worker(2, assigned: 3);

        for (var i = 0; i < 20; i++)
        {
            Assert.Same(idle, policy.Choose([busy, idle]));
        }
    }

    [Fact]
    public void PowerOfTwoChoices_ManyWorkers_SpreadsLoad()
    {
        var policy = new PowerOfTwoChoicesPolicy(seed: 7);
        var workers = Enumerable.Range(0, 10).Select(i => Worker(i)).ToList();
        for (var i = 0; i < 100; i++)
        {
            policy.Choose(workers).ForceAssign($"r{i}");
        }

        // Two choices keep the spread tight (random single choice would often reach 15+).
        Assert.InRange(workers.Max(w => w.Assigned) - workers.Min(w => w.Assigned), 0, 4);
    }

    [Fact]
    public void ModelAffinity_PrefersWorkerWithModelLoaded()
    {
        var policy = new ModelAffinityPolicy();
        var a = Worker(1);
        var b = Worker(2);
        var last = new Dictionary<WorkerState, string> { [a] = "checkpoints/sdxl", [b] = "checkpoints/sd15" };

        Assert.Same(b, policy.Choose(Context("checkpoints/sd15", last), [a, b]));
        Assert.Same(a, policy.Choose(Context("checkpoints/sdxl", last), [a, b]));
    }

    [Fact]
    public void ModelAffinity_AffineWorkerTooBusy_LoadsElsewhere()
    {
        var policy = new ModelAffinityPolicy();
        var affine = Worker(1, assigned: 2);
        var idle = Worker(2);
        var last = new Dictionary<WorkerState, string> { [affine] = "checkpoints/sd15" };

        // Waiting for two runs costs more than one model load.
        Assert.Same(idle, policy.Choose(Context("checkpoints/sd15", last, loadCost: 1.0), [affine, idle]));
        // A model load worth three runs: waiting is cheaper.
        Assert.Same(affine, policy.Choose(Context("checkpoints/sd15", last, loadCost: 3.0), [affine, idle]));
    }

    [Fact]
    public void Factory_KnowsEveryName()
    {
        foreach (var name in PlacementPolicyNames.All)
        {
            Assert.Equal(name, PlacementPolicyFactory.Create(name).Name);
        }

        Assert.Throws<ArgumentException>(() => PlacementPolicyFactory.Create("Fastest"));
    }
}
