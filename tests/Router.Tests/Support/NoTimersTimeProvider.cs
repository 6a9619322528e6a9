namespace ComfyOperator.Router.Tests.Support;

/// <summary>The system clock whose timers never fire: for tests that drive a component's reloads by hand.</summary>
internal sealed class NoTimersTimeProvider : TimeProvider
{
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new Never();

    private sealed class Never : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
