using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Scheduling;

namespace ComfyOperator.Router.Tests.Scheduling;

public sealed class DispatchQueueFairnessTests
{
    private static QueuedRun Run(string id, long sequence, string owner, int priority = 0, string? deployment = null) =>
        new(id, priority, sequence) { Owner = owner, Deployment = deployment };

    private static List<QueuedRun> Drain(DispatchQueue queue, int max = int.MaxValue)
    {
        var taken = new List<QueuedRun>();
        while (taken.Count < max && queue.TryDequeue(out var run, out _))
        {
            taken.Add(run);
        }

        return taken;
    }

    [Fact]
    public void TryDequeue_FloodingKeyAndLightKey_LightKeyIsNotStarved()
    {
        var queue = new DispatchQueue(new FakePlacer());
        var sequence = 0L;
        for (var i = 0; i < 200; i++)
        {
            queue.TryEnqueue(Run($"flood-{i}", ++sequence, "key-flood"));
        }

        for (var i = 0; i < 10; i++)
        {
            queue.TryEnqueue(Run($"light-{i}", ++sequence, "key-light"));
        }

        var first20 = Drain(queue, 20);

        // Equal weights: the two keys alternate while both have runs waiting, though the light key came last.
        Assert.Equal(10, first20.Count(r => r.Owner == "key-light"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"light-{i}"), first20.Where(r => r.Owner == "key-light").Select(r => r.RunId));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"flood-{i}"), first20.Where(r => r.Owner == "key-flood").Select(r => r.RunId));
    }

    [Fact]
    public void TryDequeue_Weights_ShareInProportion()
    {
        var queue = new DispatchQueue(new FakePlacer(weights: new() { ["key-gold"] = 3 }, placeAll: true));
        var sequence = 0L;
        for (var i = 0; i < 100; i++)
        {
            queue.TryEnqueue(Run($"gold-{i}", ++sequence, "key-gold"));
            queue.TryEnqueue(Run($"free-{i}", ++sequence, "key-free"));
        }

        var first40 = Drain(queue, 40);

        Assert.Equal(30, first40.Count(r => r.Owner == "key-gold"));
        Assert.Equal(10, first40.Count(r => r.Owner == "key-free"));
    }

    [Fact]
    public void TryDequeue_Priorities_HigherFirstThenFifo()
    {
        var queue = new DispatchQueue(new FakePlacer());
        queue.TryEnqueue(Run("low-1", 1, "a", priority: 0));
        queue.TryEnqueue(Run("high-1", 2, "a", priority: 5));
        queue.TryEnqueue(Run("low-2", 3, "a", priority: 0));
        queue.TryEnqueue(Run("high-2", 4, "a", priority: 5));
        queue.TryEnqueue(Run("mid", 5, "a", priority: 1));

        Assert.Equal(["high-1", "high-2", "mid", "low-1", "low-2"], Drain(queue).Select(r => r.RunId));
    }

    [Fact]
    public void TryDequeue_PriorityBeatsFairShare()
    {
        var queue = new DispatchQueue(new FakePlacer());
        for (var i = 0; i < 5; i++)
        {
            queue.TryEnqueue(Run($"urgent-{i}", i + 1, "a", priority: 10));
        }

        queue.TryEnqueue(Run("normal", 10, "b"));

        Assert.Equal("normal", Drain(queue).Last().RunId);
    }

    [Fact]
    public void TryEnqueue_IdleOwnerReturns_GetsNoBankedCredit()
    {
        var queue = new DispatchQueue(new FakePlacer());
        var sequence = 0L;
        queue.TryEnqueue(Run("light-0", ++sequence, "light"));
        for (var i = 0; i < 50; i++)
        {
            queue.TryEnqueue(Run($"busy-{i}", ++sequence, "busy"));
        }

        Drain(queue, 30);
        for (var i = 1; i <= 10; i++)
        {
            queue.TryEnqueue(Run($"light-{i}", ++sequence, "light"));
        }

        // light was idle while busy got 29 runs; it does not now get 10 in a row.
        var next = Drain(queue, 10);
        Assert.InRange(next.Count(r => r.Owner == "light"), 4, 6);
    }

    [Fact]
    public void TryDequeue_RunNoWorkerCanTake_DoesNotHoldUpOthers()
    {
        var placer = new FakePlacer(placeAll: false);
        var queue = new DispatchQueue(placer);
        queue.TryEnqueue(new QueuedRun("needs-missing", 0, 1) { Owner = "a", Workflow = "missing" });
        queue.TryEnqueue(new QueuedRun("ok", 0, 2) { Owner = "a", Workflow = "present" });

        Assert.True(queue.TryDequeue(out var run, out var worker));
        Assert.Equal("ok", run.RunId);
        Assert.Same(placer.Worker, worker);
        Assert.False(queue.TryDequeue(out _, out _));
        Assert.True(queue.Contains("needs-missing"));
    }

    [Fact]
    public void TryDequeue_RunCancelledWhileTheWorkersAreListed_TakesNothing()
    {
        var placer = new FakePlacer();
        var queue = new DispatchQueue(placer);
        queue.TryEnqueue(Run("only", 1, "a"));

        // The fleet is listed outside the queue's lock: a cancel can land meanwhile.
        placer.Listing = () => queue.TryRemove("only");

        Assert.False(queue.TryDequeue(out _, out _));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Signal_NothingQueued_DispatcherSleepsUntilARunArrivesOrItStops()
    {
        var queue = new DispatchQueue(new FakePlacer());
        var changed = queue.WaitForChangeAsync();

        // A worker freed, a timer tick: nothing waits, nothing to decide.
        queue.Signal();
        Assert.False(changed.IsCompleted);

        queue.TryEnqueue(Run("arrived", 1, "a"));
        Assert.True(changed.IsCompletedSuccessfully);

        var next = queue.WaitForChangeAsync();
        queue.Signal();
        Assert.True(next.IsCompletedSuccessfully);

        Assert.Single(Drain(queue));
        var stopping = queue.WaitForChangeAsync();
        queue.Wake();
        Assert.True(stopping.IsCompletedSuccessfully);
    }

    private sealed class FakePlacer(Dictionary<string, int>? weights = null, bool placeAll = true) : IRunPlacer
    {
        /// <summary>Runs while a round lists its workers.</summary>
        public Action? Listing { get; set; }

        public WorkerState Worker { get; } = Healthy("http://w1:8188/");

        public event EventHandler? Changed { add { } remove { } }

        public event EventHandler? RequirementsChanged { add { } remove { } }

        public RunRequirements Resolve(QueuedRun run) => new() { Key = run.Workflow ?? string.Empty };

        public PlacementRound BeginRound()
        {
            Listing?.Invoke();
            return new([Worker], (r, eligible) => placeAll || r.Key != "missing" ? [.. eligible] : [], (_, _, candidates) => candidates[0]);
        }

        public int WeightOf(string owner) => weights?.GetValueOrDefault(owner, 1) ?? 1;

        public static WorkerState Healthy(string url)
        {
            var worker = new WorkerState(new NodeEndpoint(new Uri(url), "test"));
            worker.ReportProbeSuccess(DateTimeOffset.UnixEpoch, "0.3", []);
            return worker;
        }
    }

    [Fact]
    public void ClaimedElsewhere_RunsOfOneKeyTakenByAnotherReplica_OtherKeyGoesNextHere()
    {
        var queue = new DispatchQueue(new FakePlacer());
        var sequence = 0L;
        for (var i = 0; i < 10; i++)
        {
            queue.TryEnqueue(Run($"a-{i}", ++sequence, "key-a"));
            queue.TryEnqueue(Run($"b-{i}", ++sequence, "key-b"));
        }

        // Another replica's workers took four of key-a's runs: here key-b has four turns to catch up.
        for (var i = 0; i < 4; i++)
        {
            queue.ClaimedElsewhere($"a-{i}", "key-a");
        }

        Assert.Equal(["b-0", "b-1", "b-2", "b-3", "a-4", "b-4"], Drain(queue, 6).Select(r => r.RunId));
    }

    [Fact]
    public void ClaimSettled_ClaimLostToAnotherReplica_CountedOnce()
    {
        var queue = new DispatchQueue(new FakePlacer());
        queue.TryEnqueue(Run("a-0", 1, "key-a"));
        queue.TryEnqueue(Run("a-1", 2, "key-a"));
        queue.TryEnqueue(Run("b-0", 3, "key-b"));
        queue.TryEnqueue(Run("b-1", 4, "key-b"));

        // Both replicas took a-0; the other's claim is heard first, then this one's claim fails.
        Assert.Equal("a-0", Drain(queue, 1).Single().RunId);
        queue.ClaimedElsewhere("a-0", "key-a");
        queue.ClaimSettled("a-0", counts: false);

        // A failed claim heard before the winner's: given back, then counted once as the winner's.
        Assert.Equal("b-0", Drain(queue, 1).Single().RunId);
        queue.ClaimSettled("b-0", counts: false);
        queue.ClaimedElsewhere("b-0", "key-b");

        // key-a and key-b one run each: level, so the older head goes next.
        Assert.Equal(["a-1", "b-1"], Drain(queue).Select(r => r.RunId));
    }

    [Fact]
    public void ClaimSettled_ClaimWonHere_CountedOnceNotGivenBack()
    {
        var queue = new DispatchQueue(new FakePlacer());
        queue.TryEnqueue(Run("a-0", 1, "key-a"));
        queue.TryEnqueue(Run("a-1", 2, "key-a"));
        queue.TryEnqueue(Run("b-0", 3, "key-b"));

        Assert.Equal("a-0", Drain(queue, 1).Single().RunId);
        queue.ClaimSettled("a-0", counts: true);

        Assert.Equal(["b-0", "a-1"], Drain(queue).Select(r => r.RunId));
    }

    [Fact]
    public void TryTakeNow_OnlyUnplaceableRunsQueued_TakenAndCountedInFairShare()
    {
        var queue = new DispatchQueue(new FakePlacer(placeAll: false));
        queue.TryEnqueue(Run("b-0", 1, "key-b") with { Workflow = "missing" });

        Assert.True(queue.TryTakeNow(Run("a-0", long.MaxValue, "key-a"), out var worker));
        queue.ClaimSettled("a-0", counts: true);

        Assert.Equal("http://w1:8188/", worker.BaseAddress.ToString());
        Assert.Equal(1, queue.Count);
        queue.TryEnqueue(Run("a-1", 2, "key-a"));
        queue.TryEnqueue(Run("b-1", 3, "key-b"));

        // key-a was served once already: key-b's run goes first, though it came later.
        Assert.Equal(["b-1", "a-1"], Drain(queue).Select(r => r.RunId));
    }

    [Fact]
    public void TryTakeNow_PlaceableRunQueuedBefore_NotTakenAndNothingCounted()
    {
        var queue = new DispatchQueue(new FakePlacer());
        queue.TryEnqueue(Run("a-0", 1, "key-a"));

        Assert.False(queue.TryTakeNow(Run("a-new", long.MaxValue, "key-a"), out _));
        Assert.False(queue.TryTakeNow(Run("b-new", long.MaxValue, "key-b"), out _));

        queue.TryEnqueue(Run("b-0", 2, "key-b"));
        Assert.Equal(["a-0", "b-0"], Drain(queue).Select(r => r.RunId));
    }

    [Fact]
    public void TryTakeNow_HigherPriorityThanTheQueued_Taken()
    {
        var queue = new DispatchQueue(new FakePlacer());
        queue.TryEnqueue(Run("a-0", 1, "key-a"));

        Assert.True(queue.TryTakeNow(Run("b-urgent", long.MaxValue, "key-b", priority: 5), out _));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void TryTakeNow_QueuedRunNoWorkerCanTake_TakenPastIt()
    {
        var queue = new DispatchQueue(new FakePlacer(placeAll: false));
        queue.TryEnqueue(Run("a-0", 1, "key-a") with { Workflow = "missing" });

        Assert.True(queue.TryTakeNow(Run("a-new", long.MaxValue, "key-a"), out _));
        Assert.False(queue.TryTakeNow(Run("a-missing", long.MaxValue, "key-a") with { Workflow = "missing" }, out _));
    }

    [Fact]
    public void TryTakeNow_ClaimNotStored_CountGivenBack()
    {
        var queue = new DispatchQueue(new FakePlacer(placeAll: false));
        queue.TryEnqueue(Run("b-0", 1, "key-b") with { Workflow = "missing" });
        Assert.True(queue.TryTakeNow(Run("a-0", long.MaxValue, "key-a"), out _));
        queue.ClaimSettled("a-0", counts: false);

        queue.TryEnqueue(Run("a-1", 2, "key-a"));
        queue.TryEnqueue(Run("b-1", 3, "key-b"));
        Assert.Equal(["a-1", "b-1"], Drain(queue).Select(r => r.RunId));
    }
}
