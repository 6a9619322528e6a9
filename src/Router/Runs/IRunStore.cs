namespace ComfyOperator.Router.Runs;

/// <summary>
/// Durable run storage. SQLite by default; written against plain SQL so a PostgreSQL store can
/// follow for several router replicas. Every method is safe to call concurrently.
/// </summary>
internal interface IRunStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Inserts the run with its first event, or returns the run the same owner already stored under the same idempotency key.</summary>
    Task<(RunRecord Run, bool Created)> InsertAsync(RunRecord run, RunEvent firstEvent, CancellationToken cancellationToken);

    Task<RunRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The run <paramref name="owner"/> submitted with <paramref name="key"/>; keys are scoped per owner (null = auth off, its own scope).</summary>
    Task<RunRecord?> GetByIdempotencyKeyAsync(string? owner, string key, CancellationToken cancellationToken);

    /// <summary>Newest first; <paramref name="before"/> is an exclusive sequence bound from the previous page.</summary>
    Task<RunPage> ListAsync(RunStatus? status, int limit, long? before, CancellationToken cancellationToken);

    /// <summary>Runs not yet finished, oldest first (for restart recovery).</summary>
    Task<IReadOnlyList<RunRecord>> ListUnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>Writes the new state of a run and, in the same transaction, its event.</summary>
    Task UpdateAsync(RunRecord run, RunEvent? runEvent, CancellationToken cancellationToken);

    Task<IReadOnlyList<RunEvent>> GetEventsAsync(string runId, long afterSequence, CancellationToken cancellationToken);

    /// <summary>Deletes finished runs beyond the newest <paramref name="keep"/> or finished before <paramref name="finishedBefore"/>; returns their ids.</summary>
    Task<IReadOnlyList<string>> PruneAsync(int keep, DateTimeOffset? finishedBefore, CancellationToken cancellationToken);

    Task<bool> PingAsync(CancellationToken cancellationToken);
}
