namespace ComfyOperator.Testing.Time;

/// <summary>
/// A clock tests move by hand. Timestamps follow the clock; a timer fires when <see cref="Advance"/> passes its due
/// time (a zero due time fires at once, as a real timer would without waiting for the test), and a periodic timer is
/// armed again one period after it fired. Tests that must not advance before the code under test armed its timer wait
/// for it with <see cref="WaitForTimersAsync"/>.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _armed = [];
    private readonly List<(int Count, TaskCompletionSource Armed)> _waiters = [];
    private DateTimeOffset _now = start;

    public ManualTimeProvider()
        : this(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero))
    {
    }

    /// <summary>How many timers are waiting for their due time.</summary>
    public int ArmedTimers
    {
        get
        {
            lock (_gate)
            {
                return _armed.Count;
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Moves the clock forward and fires, in due order, every timer whose due time it passed.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        List<ManualTimer> due;
        lock (_gate)
        {
            _now += by;
            due = [.. _armed.Where(t => t.DueAt <= _now).OrderBy(t => t.DueAt)];
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> timers are armed; fails after <paramref name="timeout"/> (10 s by default).</summary>
    public Task WaitForTimersAsync(int count, TimeSpan? timeout = null)
    {
        Task armed;
        lock (_gate)
        {
            if (_armed.Count >= count)
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, waiter));
            armed = waiter.Task;
        }

        return WaitAsync(armed, count, timeout ?? TimeSpan.FromSeconds(10));
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private async Task WaitAsync(Task armed, int count, TimeSpan timeout)
    {
        try
        {
            await armed.WaitAsync(timeout, TimeProvider.System).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{ArmedTimers} timers armed after {timeout}, waited for {count}");
        }
    }

    private void ArmLocked(ManualTimer timer)
    {
        _armed.Add(timer);
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_armed.Count >= _waiters[i].Count)
            {
                _waiters[i].Armed.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public DateTimeOffset DueAt { get; private set; } = DateTimeOffset.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                _period = period;
                owner._armed.Remove(this);
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    DueAt = owner._now + dueTime;
                    owner.ArmLocked(this);
                }
            }

            if (dueTime == TimeSpan.Zero)
            {
                Fire();
            }

            return true;
        }

        public void Fire()
        {
            lock (owner._gate)
            {
                // Disposed, stopped or moved later since Advance chose it: not due any more.
                if (DueAt > owner._now || !owner._armed.Remove(this))
                {
                    return;
                }

                if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
                {
                    DueAt = owner._now + _period;
                    owner.ArmLocked(this);
                }
            }

            callback(state);
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._armed.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
