using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Tests.Nodes;

public sealed class WorkerReadsTests
{
    [Fact]
    public async Task ForEachAsync_ManyWorkers_ReadsEachOnceAtMostConcurrencyAtATime()
    {
        var inFlight = 0;
        var most = 0;
        var read = new System.Collections.Concurrent.ConcurrentBag<int>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var all = WorkerReads.ForEachAsync(Enumerable.Range(0, 200), async (i, ct) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            if (now == WorkerReads.Concurrency)
            {
                // The first reads hold until the limit is reached, so it is really met.
                gate.TrySetResult();
            }

            await gate.Task.WaitAsync(ct);
            read.Add(i);
            Interlocked.Decrement(ref inFlight);
        }, CancellationToken.None);
        await all.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(WorkerReads.Concurrency, most);
        Assert.Equal(Enumerable.Range(0, 200), read.Order());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }
}
