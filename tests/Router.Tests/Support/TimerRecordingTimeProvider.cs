namespace ComfyOperator.Router.Tests.Support;

/// <summary>The system clock, noting the period of every timer created through it.</summary>
internal sealed class TimerRecordingTimeProvider : TimeProvider
{
    private readonly List<TimeSpan> _periods = [];

    public IReadOnlyList<TimeSpan> Periods
    {
        get
        {
            lock (_periods)
            {
                return [.. _periods];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_periods)
        {
            _periods.Add(period);
        }

        return System.CreateTimer(callback, state, dueTime, period);
    }
}
