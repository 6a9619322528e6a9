namespace ComfyOperator.Router.Runs;

/// <summary>
/// The events of a run this router has on a worker (<see cref="RunService"/>): the last sequence number it
/// gave one, and the events it published that are not written yet (progress, previews and the <c>started</c>
/// transition: they go with the run's next write). Changed only under the run's lock; <see cref="PendingSince"/>
/// and <see cref="Apply"/> are also used without it.
/// </summary>
internal sealed class LiveRunEvents(long published)
{
    private readonly List<RunEvent> _pending = [];
    private long _pendingSince;
    private RunRecord? _started;

    /// <summary>The sequence number of the run's last event published here, written or not.</summary>
    public long Published { get; private set; } = published;

    public IReadOnlyList<RunEvent> Pending => _pending;

    /// <summary>When the oldest event not yet written was published; null when all are written.</summary>
    public DateTimeOffset? PendingSince =>
        Volatile.Read(ref _pendingSince) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Add(RunEvent runEvent)
    {
        _pending.Add(runEvent);
        Published = runEvent.Sequence;
        if (_pending.Count == 1)
        {
            Volatile.Write(ref _pendingSince, runEvent.At.UtcTicks);
        }
    }

    /// <summary>The run went Running (<paramref name="running"/>) with an event published and not written yet.</summary>
    public void Started(RunRecord running) => Volatile.Write(ref _started, running);

    /// <summary>
    /// <paramref name="current"/> with the Running state published here and not written yet, when it is the same
    /// attempt still stored as Dispatching (the store, or another replica, does not know it started).
    /// </summary>
    public RunRecord Apply(RunRecord current) =>
        Volatile.Read(ref _started) is { } started && current.Status == RunStatus.Dispatching && current.PromptId == started.PromptId
            ? current with { Status = RunStatus.Running, StartedAt = started.StartedAt }
            : current;

    /// <summary>Every pending event was written, and the run's last event is now <paramref name="sequence"/>.</summary>
    public void Written(long sequence)
    {
        _pending.Clear();
        Volatile.Write(ref _pendingSince, 0);
        Volatile.Write(ref _started, null);
        Published = Math.Max(Published, sequence);
    }
}
