namespace ComfyOperator.Router.Runs;

/// <summary>
/// Durable run storage, on the router database (<see cref="Storage.IRouterDatabase"/>, opened and
/// migrated at start). SQLite by default; a PostgreSQL store for several router replicas implements the
/// same contract and passes the same contract tests. Every method is safe to call concurrently; every
/// write that changes a run and its history does both in one transaction; database failures throw
/// <see cref="Storage.StorageException"/>. Run sequence numbers only grow, also across pruning and restarts.
/// </summary>
internal interface IRunStore
{
    /// <summary>Inserts the run with its first event, or returns the run the same owner already stored under the same idempotency key.</summary>
    async Task<(RunRecord Run, bool Created)> InsertAsync(RunRecord run, RunEvent firstEvent, CancellationToken cancellationToken)
    {
        var result = await InsertWithinLimitsAsync(run, [firstEvent], PendingLimits.None, cancellationToken);
        return (result.Run!, result.Outcome == SubmitOutcome.Created);
    }

    /// <summary>
    /// Inserts the run with its first events (<see cref="SubmitOutcome.Created"/>: <c>queued</c>, and <c>dispatching</c>
    /// for a run stored as already on its worker, in sequence order), returns the run the same owner
    /// already stored under the same idempotency key (<see cref="SubmitOutcome.Replayed"/>), or stores nothing
    /// when the runs stored as queued of the run's owner or of its workflow have reached their limit
    /// (<see cref="SubmitOutcome.OwnerLimitReached"/>, <see cref="SubmitOutcome.DeploymentLimitReached"/>, no run).
    /// The count and the insert are one decision: inserts that race, from any router on the database, never
    /// take a count past its limit.
    /// </summary>
    Task<SubmitResult> InsertWithinLimitsAsync(RunRecord run, IReadOnlyList<RunEvent> events, PendingLimits limits, CancellationToken cancellationToken);

    Task<RunRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The run <paramref name="owner"/> submitted with <paramref name="key"/>; keys are scoped per owner (null = auth off, its own scope).</summary>
    Task<RunRecord?> GetByIdempotencyKeyAsync(string? owner, string key, CancellationToken cancellationToken);

    /// <summary>Newest first; <paramref name="before"/> is an exclusive sequence bound from the previous page.</summary>
    Task<RunPage> ListAsync(RunQuery query, int limit, long? before, CancellationToken cancellationToken);

    /// <summary>Runs not yet finished, oldest first (for restart recovery).</summary>
    Task<IReadOnlyList<RunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>Writes the new state of a run and, in the same transaction, its event.</summary>
    Task UpdateAsync(RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken);

    /// <summary>The compare-and-set of <see cref="TryUpdateWithEventsAsync"/> with one event, or none.</summary>
    Task<bool> TryUpdateAsync(RunRecord run, RunEvent? runEvent, long expectedSequence, CancellationToken cancellationToken) =>
        TryUpdateWithEventsAsync(run, runEvent is null ? [] : [runEvent], expectedSequence, cancellationToken);

    /// <summary>
    /// Writes the run's new state and, in the same transaction, <paramref name="events"/> (in sequence order: the
    /// progress and previews published since the run's last write, then the event of this change, if any), but
    /// only while the stored run is still at event sequence <paramref name="expectedSequence"/>, the state the
    /// change was decided from; false, and nothing written, when another writer (another router replica) changed
    /// it first. A stored cancel request is kept: a write never clears <see cref="RunRecord.CancelRequested"/>,
    /// since the writer may not have seen the request that another replica stored meanwhile without an event.
    /// </summary>
    Task<bool> TryUpdateWithEventsAsync(RunRecord run, IReadOnlyList<RunEvent> events, long expectedSequence, CancellationToken cancellationToken);

    Task<IReadOnlyList<RunEvent>> GetEventsAsync(string runId, long afterSequence, CancellationToken cancellationToken);

    /// <summary>Deletes finished runs beyond the newest <paramref name="keep"/> or finished before <paramref name="finishedBefore"/>; returns their ids.</summary>
    Task<IReadOnlyList<string>> PruneAsync(int keep, DateTimeOffset? finishedBefore, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes finished runs of <paramref name="owner"/> (null = auth off, its own scope) with their events, in
    /// one transaction: those named in <paramref name="ids"/>, or every one of the owner's when it is null.
    /// Other owners' runs and runs not finished are untouched; returns the ids deleted.
    /// </summary>
    Task<IReadOnlyList<string>> DeleteFinishedAsync(string? owner, IReadOnlyCollection<string>? ids, CancellationToken cancellationToken);

    /// <summary>How many finished runs the store holds (what <see cref="PruneAsync"/> counts against its limit).</summary>
    Task<long> CountFinishedAsync(CancellationToken cancellationToken);

    Task<bool> PingAsync(CancellationToken cancellationToken);
}
