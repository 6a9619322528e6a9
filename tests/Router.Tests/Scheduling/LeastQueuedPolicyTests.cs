using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Scheduling;

namespace ComfyOperator.Router.Tests.Scheduling;

public sealed class LeastQueuedPolicyTests
{
    private static WorkerState Worker(string name, int assigned = 0)
    {
        var worker = new WorkerState(new NodeEndpoint(new Uri($"http://{name}:8188/"), "test"));
        for (var i = 0; i < assigned; i++)
        {
            worker.ForceAssign($"run-{name}-{i}");
        }

        return worker;
    }

    [Fact]
    public void Choose_TieBetweenLeastQueued_AlternatesBetweenThemAndNeverPicksTheBusierOne()
    {
        var policy = new LeastQueuedPolicy();
        var a = Worker("a", assigned: 1);
        var b = Worker("b");
        var c = Worker("c");

        // Choosing without assigning keeps the tie, so every pick is a tie-break.
        var picks = Enumerable.Range(0, 10).Select(_ => policy.Choose([a, b, c])).ToList();

        Assert.DoesNotContain(a, picks);
        for (var i = 1; i < picks.Count; i++)
        {
            Assert.NotSame(picks[i - 1], picks[i]);
        }

        Assert.Equal(5, picks.Count(p => ReferenceEquals(p, b)));
        Assert.Equal(5, picks.Count(p => ReferenceEquals(p, c)));
    }

    [Fact]
    public void Choose_RunsAssignedAsPicked_FillsTheLeastQueuedFirstAndSpreadsEvenly()
    {
        var policy = new LeastQueuedPolicy();
        var a = Worker("a", assigned: 2);
        var b = Worker("b");
        var c = Worker("c");
        var workers = new[] { a, b, c };

        var first = Enumerable.Range(0, 4).Select(i =>
        {
            var worker = policy.Choose(workers);
            worker.ForceAssign($"new-{i}");
            return worker;
        }).ToList();

        Assert.DoesNotContain(a, first);
        Assert.Equal((2, 2, 2), (a.Assigned, b.Assigned, c.Assigned));

        for (var i = 4; i < 7; i++)
        {
            policy.Choose(workers).ForceAssign($"new-{i}");
        }

        Assert.Equal((3, 3, 3), (a.Assigned, b.Assigned, c.Assigned));
    }

    [Fact]
    public void Choose_OneLeastQueued_AlwaysPicksIt()
    {
        var policy = new LeastQueuedPolicy();
        var a = Worker("a", assigned: 2);
        var b = Worker("b", assigned: 1);
        var c = Worker("c", assigned: 3);

        Assert.All(Enumerable.Range(0, 5), _ => Assert.Same(b, policy.Choose([a, b, c])));
    }

    [Fact]
    public void Choose_RunEndsOnTheLeastQueuedWhileChoosing_StillPicksAWorker()
    {
        var policy = new LeastQueuedPolicy();
        var a = Worker("a", assigned: 1);
        var b = Worker("b", assigned: 2);

        // Each pass over the list sees a's run end, as an attempt ending on another thread would.
        var picked = policy.Choose(new ChangingList([a, b], () => a.Release(a.AssignedRuns[0])));

        Assert.Same(a, picked);
    }

    /// <summary>Workers whose counts change as the list is walked.</summary>
    private sealed class ChangingList(WorkerState[] workers, Action onWalk) : IReadOnlyList<WorkerState>
    {
        public int Count => workers.Length;

        public WorkerState this[int index] => workers[index];

        public IEnumerator<WorkerState> GetEnumerator()
        {
            foreach (var worker in workers)
            {
                yield return worker;
            }

            if (workers[0].AssignedRuns.Count > 0)
            {
                onWalk();
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
