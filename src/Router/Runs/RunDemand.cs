namespace ComfyOperator.Router.Runs;

/// <summary>
/// Runs pending and running per workflow, counted from the run store's unfinished runs, so every
/// router replica on one database answers the same. A count is reused for up to
/// <see cref="MaxAge"/> and one read serves every caller waiting meanwhile (the API, each scrape, the
/// operator's polls), so asking often costs at most one store read per second.
/// </summary>
internal sealed class RunDemand(IRunStore store, TimeProvider time) : IDisposable
{
    /// <summary>How old a count may be before the next caller reads the store again.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyDictionary<string, WorkflowDemand> _counts = new Dictionary<string, WorkflowDemand>(StringComparer.Ordinal);
    private long _countedAt = long.MinValue;

    /// <summary>Demand by workflow name (raw graphs are not counted: no workflow can scale for them).</summary>
    public async Task<IReadOnlyDictionary<string, WorkflowDemand>> CurrentAsync(CancellationToken cancellationToken)
    {
        if (Fresh())
        {
            return Volatile.Read(ref _counts);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Fresh())
            {
                return _counts;
            }

            var started = time.GetTimestamp();
            var unfinished = await store.ListUnfinishedAsync(cancellationToken);
            var counts = unfinished
                .Where(static r => r.Deployment is not null)
                .GroupBy(static r => r.Deployment!, StringComparer.Ordinal)
                .ToDictionary(
                    static g => g.Key,
                    static g => new WorkflowDemand(g.Count(static r => r.Status == RunStatus.Queued), g.Count(static r => r.Status is RunStatus.Dispatching or RunStatus.Running)),
                    StringComparer.Ordinal);
            Volatile.Write(ref _counts, counts);
            Volatile.Write(ref _countedAt, started);
            return counts;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The demand of one workflow (zero when nothing of it is unfinished).</summary>
    public async Task<WorkflowDemand> OfAsync(string workflow, CancellationToken cancellationToken) =>
        (await CurrentAsync(cancellationToken)).TryGetValue(workflow, out var demand) ? demand : WorkflowDemand.None;

    public void Dispose() => _gate.Dispose();

    private bool Fresh()
    {
        var at = Volatile.Read(ref _countedAt);
        return at != long.MinValue && time.GetElapsedTime(at) < MaxAge;
    }
}
