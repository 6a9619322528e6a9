using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Testing.Time;

namespace ComfyOperator.Router.Tests.Scheduling;

/// <summary>What a run attempt waits on: its prompt's events in order, and wake-ups that end one wait each however many came.</summary>
public sealed class AttemptInboxTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static ComfyEvent Progress(int value) =>
        ComfyMessageParser.ParseText($$$"""{"type": "progress", "data": {"value": {{{value}}}, "max": 9, "prompt_id": "p", "node": "3"}}""");

    [Fact]
    public void TryRead_EventsAddedWhileNobodyWaits_ComeInOrderAndTheWaitEndsAtOnce()
    {
        var inbox = new AttemptInbox();
        for (var i = 1; i <= 3; i++)
        {
            inbox.Add(Progress(i));
        }

        Assert.True(inbox.WaitAsync().AsTask().IsCompleted);
        var values = new List<double>();
        while (inbox.TryRead(out var ev))
        {
            values.Add(((ComfyProgressEvent)ev).Value);
        }

        Assert.Equal([1d, 2d, 3d], values);
        Assert.True(inbox.IsEmpty);
    }

    [Fact]
    public async Task WaitAsync_SeveralWakeUpsBeforeTheWait_EndOneWaitOnly()
    {
        var inbox = new AttemptInbox();
        inbox.Wake();
        inbox.Wake();
        inbox.Add(Progress(1));

        await inbox.WaitAsync().AsTask().WaitAsync(Deadline);
        var second = inbox.WaitAsync().AsTask();
        Assert.False(second.IsCompleted);

        inbox.Add(Progress(2));
        await second.WaitAsync(Deadline);
        Assert.True(inbox.TryRead(out var first));
        Assert.Equal(1d, ((ComfyProgressEvent)first).Value);
    }

    [Fact]
    public async Task Add_WhileTheReaderWaits_ReturnsBeforeTheReaderGoesOn()
    {
        // The worker's receive loop adds events: it must never run the attempt's code itself.
        var inbox = new AttemptInbox();
        using var addReturned = new ManualResetEventSlim();
        var reader = ReadOnceAsync(inbox, addReturned);
        Assert.False(reader.IsCompleted);

        await Task.Run(() =>
        {
            inbox.Add(Progress(1));
            addReturned.Set();
        });

        Assert.True(await reader.WaitAsync(Deadline));
    }

    [Fact]
    public async Task Start_TickCompletionAndStop_EachEndAWaitUntilStopped()
    {
        var time = new ManualTimeProvider();
        var inbox = new AttemptInbox();
        var completion = new TaskCompletionSource();
        using var stop = new CancellationTokenSource();
        inbox.Start(completion.Task, Tick, time, stop.Token);

        var wait = inbox.WaitAsync().AsTask();
        time.Advance(Tick - TimeSpan.FromMilliseconds(1));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(Deadline);

        wait = inbox.WaitAsync().AsTask();
        Assert.False(wait.IsCompleted);
        completion.SetResult();
        await wait.WaitAsync(Deadline);

        wait = inbox.WaitAsync().AsTask();
        Assert.False(wait.IsCompleted);
        await stop.CancelAsync();
        await wait.WaitAsync(Deadline);

        inbox.Stop();
        Assert.Equal(0, time.ArmedTimers);
        wait = inbox.WaitAsync().AsTask();
        time.Advance(Tick * 4);
        Assert.False(wait.IsCompleted);
    }

    /// <summary>Waits once, then tells whether <paramref name="addReturned"/> gets set while it goes on (it never would, were it run inside Add).</summary>
    private static async Task<bool> ReadOnceAsync(AttemptInbox inbox, ManualResetEventSlim addReturned)
    {
        await inbox.WaitAsync().ConfigureAwait(false);
        return addReturned.Wait(Deadline) && inbox.TryRead(out _);
    }
}
