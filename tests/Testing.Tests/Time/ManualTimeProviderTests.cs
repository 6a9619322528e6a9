using ComfyOperator.Testing.Time;

namespace ComfyOperator.Testing.Tests.Time;

public sealed class ManualTimeProviderTests
{
    [Fact]
    public void Advance_PastDueTime_FiresOneShotTimerOnce()
    {
        var time = new ManualTimeProvider();
        var fired = 0;
        using var timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, fired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, fired);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, fired);
        Assert.Equal(0, time.ArmedTimers);
    }

    [Fact]
    public void Advance_PeriodicTimer_FiresAgainOnePeriodLaterUntilDisposed()
    {
        var time = new ManualTimeProvider();
        var fired = 0;
        var timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, fired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, fired);
        timer.Dispose();
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, fired);
    }

    [Fact]
    public void Change_ZeroDueTime_FiresAtOnceAndInfiniteStops()
    {
        var time = new ManualTimeProvider();
        var fired = 0;
        using var timer = time.CreateTimer(_ => fired++, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        Assert.Equal(0, time.ArmedTimers);
        timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        Assert.Equal(1, fired);
        timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void GetTimestamp_FollowsTheClock()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var time = new ManualTimeProvider(start);
        var stamp = time.GetTimestamp();

        time.Advance(TimeSpan.FromMinutes(3));

        Assert.Equal(start.AddMinutes(3), time.GetUtcNow());
        Assert.Equal(TimeSpan.FromMinutes(3), time.GetElapsedTime(stamp));
    }

    [Fact]
    public async Task WaitForTimersAsync_DelayArmedLater_CompletesAndAdvanceEndsTheDelay()
    {
        var time = new ManualTimeProvider();
        var waiting = time.WaitForTimersAsync(1);
        Assert.False(waiting.IsCompleted);

        var delay = Task.Delay(TimeSpan.FromMinutes(5), time);
        await waiting;
        Assert.False(delay.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(5));
        await delay.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task WaitForTimersAsync_NoTimerArmed_TimesOut()
    {
        var time = new ManualTimeProvider();

        await Assert.ThrowsAsync<TimeoutException>(() => time.WaitForTimersAsync(1, TimeSpan.FromMilliseconds(50)));
    }
}
