using ComfyOperator.Operator.Reconciliation;
using ComfyOperator.Operator.Tests.Metrics;
using ComfyOperator.Testing.Time;

namespace ComfyOperator.Operator.Tests.Reconciliation;

public sealed class WorkQueueTests
{
    private static async Task<string?> TryTakeAsync(WorkQueue queue, int milliseconds = 200)
    {
        using var cts = new CancellationTokenSource(milliseconds);
        try
        {
            return await queue.TakeAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Add_SameKeyTwice_ProcessedOnce()
    {
        using var queue = new WorkQueue(TimeProvider.System);
        queue.Add("ns/a");
        queue.Add("ns/a");

        Assert.Equal("ns/a", await queue.TakeAsync(CancellationToken.None));
        Assert.Null(await TryTakeAsync(queue));
    }

    [Fact]
    public async Task Add_WhileProcessing_RequeuedOnlyAfterDone()
    {
        using var queue = new WorkQueue(TimeProvider.System);
        queue.Add("k");
        var key = await queue.TakeAsync(CancellationToken.None);

        queue.Add(key);
        Assert.Null(await TryTakeAsync(queue));

        queue.Done(key);
        Assert.Equal("k", await TryTakeAsync(queue, 2000));
    }

    [Fact]
    public async Task AddAfter_KeyAppearsOnlyAfterTheDelay()
    {
        var time = new ManualTimeProvider();
        using var queue = new WorkQueue(time);
        queue.AddAfter("k", TimeSpan.FromSeconds(10));

        Assert.Null(await TryTakeAsync(queue, 50));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("k", await TryTakeAsync(queue, 2000));
    }

    [Fact]
    public async Task AddAfter_EarlierRequestWins()
    {
        var time = new ManualTimeProvider();
        using var queue = new WorkQueue(time);
        queue.AddAfter("k", TimeSpan.FromSeconds(60));
        queue.AddAfter("k", TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("k", await TryTakeAsync(queue, 2000));
    }

    [Fact]
    public void AddRateLimited_BackoffDoublesPerFailureUntilForget()
    {
        using var queue = new WorkQueue(new ManualTimeProvider(), TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromMilliseconds(5), queue.AddRateLimited("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), queue.AddRateLimited("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), queue.AddRateLimited("k"));
        for (var i = 0; i < 20; i++)
        {
            queue.AddRateLimited("k");
        }

        Assert.Equal(TimeSpan.FromSeconds(1), queue.AddRateLimited("k"));
        queue.Forget("k");
        Assert.Equal(TimeSpan.FromMilliseconds(5), queue.AddRateLimited("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), queue.AddRateLimited("other"));
    }

    [Fact]
    public async Task ControllerRunner_SameKeyNeverConcurrent_FailureRetriedWithBackoff()
    {
        var scoped = new ScopedOperatorMetrics();
        using var queue = new WorkQueue(TimeProvider.System, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20));
        var running = 0;
        var maxConcurrent = 0;
        var calls = 0;
        var done = new TaskCompletionSource();
        var runner = new ControllerRunner(
            "test",
            queue,
            async (key, ct) =>
            {
                var now = Interlocked.Increment(ref running);
                maxConcurrent = Math.Max(maxConcurrent, now);
                queue.Add(key);
                await Task.Yield();
                Interlocked.Decrement(ref running);
                if (Interlocked.Increment(ref calls) >= 5)
                {
                    done.TrySetResult();
                    return ReconcileResult.Success();
                }

                return ReconcileResult.Failure("not yet");
            },
            workers: 4,
            scoped.Metrics,
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        queue.Add("k");
        var run = runner.RunAsync(stop.Token);

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await run;

        Assert.Equal(1, maxConcurrent);
        Assert.True(runner.FailureCount >= 4);
    }

    [Fact]
    public async Task ControllerRunner_Reconciles_MoveReconcileRetryAndDurationSeries()
    {
        var scoped = new ScopedOperatorMetrics();
        using var queue = new WorkQueue(TimeProvider.System, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));
        var calls = 0;
        var done = new TaskCompletionSource();
        var runner = new ControllerRunner(
            "ComfyNode",
            queue,
            (key, ct) =>
            {
                var call = Interlocked.Increment(ref calls);
                if (call == 2)
                {
                    throw new InvalidOperationException("a bug");
                }

                if (call < 4)
                {
                    return Task.FromResult(ReconcileResult.Failure("not yet"));
                }

                done.TrySetResult();
                return Task.FromResult(ReconcileResult.Success());
            },
            workers: 1,
            scoped.Metrics,
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        scoped.Metrics.ObserveQueue("ComfyNode", () => queue.Length);
        using var stop = new CancellationTokenSource();
        queue.Add("ns/a");
        var run = runner.RunAsync(stop.Token);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await run;
        queue.Add("ns/waiting");

        var text = await scoped.ScrapeAsync();

        Assert.Contains("comfy_operator_reconciles_total{kind=\"ComfyNode\",result=\"failure\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("comfy_operator_reconciles_total{kind=\"ComfyNode\",result=\"error\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("comfy_operator_reconciles_total{kind=\"ComfyNode\",result=\"success\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("comfy_operator_workqueue_retries_total{kind=\"ComfyNode\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("comfy_operator_reconcile_duration_seconds_count{kind=\"ComfyNode\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("comfy_operator_workqueue_depth{kind=\"ComfyNode\"} 1\n", text, StringComparison.Ordinal);
    }
}
