namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>A TimeProvider that only moves when told, and lets tests wait until a timer has been armed.</summary>
internal sealed class ManualTime : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<Timer> _timers = [];
    private DateTimeOffset _now = new(2025, 10, 11, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private int ArmedCount()
    {
        lock (_lock)
        {
            return _timers.Count(t => t.Due is not null);
        }
    }

    public async Task WaitForTimersAsync(int count, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (ArmedCount() < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("no timer armed");
            }

            await Task.Delay(5);
        }
    }

    public void Advance(TimeSpan by)
    {
        List<Timer> fire;
        lock (_lock)
        {
            _now += by;
            fire = _timers.Where(t => t.Due is { } due && due <= _now).ToList();
            foreach (var t in fire)
            {
                t.Due = null;
            }
        }

        foreach (var t in fire)
        {
            t.Fire();
        }
    }

    private sealed class Timer(ManualTime owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime;
                if (!owner._timers.Contains(this))
                {
                    owner._timers.Add(this);
                }
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
