namespace ComfyOperator.Router.Tests.Support;

/// <summary>
/// The system clock plus an offset the test moves forward. Timers and timestamps stay real, so the
/// router keeps working normally while "now" jumps (e.g. past a retention age).
/// </summary>
internal sealed class ShiftedTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
