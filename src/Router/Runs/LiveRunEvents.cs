namespace ComfyOperator.Router.Runs;

/// <summary>
/// The events of a run this router has on a worker (<see cref="RunService"/>): the last sequence number it
/// gave one, and the progress and previews it published that are not written yet (they go with the run's
/// next write). Changed only under the run's lock; <see cref="PendingSince"/> is also read without it.
/// </summary>
internal sealed class LiveRunEvents(long published)
{
    private readonly List<RunEvent> _pending = [];
    private long _pendingSince;

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

    /// <summary>Every pending event was written, and the run's last event is now <paramref name="sequence"/>.</summary>
    public void Written(long sequence)
    {
        _pending.Clear();
        Volatile.Write(ref _pendingSince, 0);
        Published = Math.Max(Published, sequence);
    }
}
