namespace ComfyOperator.Router.Runs;

/// <summary>
/// Follows runs that other active/active replicas write, as this replica hears them
/// (<see cref="Storage.Postgres.PostgresReplicaFeed"/> through <see cref="RunEventHub"/>): a front door that
/// tells its own clients about runs it does not drive (ComfyUI's <c>/ws</c>). Quick, must not throw.
/// </summary>
internal interface IRelayedRunObserver
{
    /// <summary>Whether the events other replicas write for <paramref name="runId"/> should be read for this observer.</summary>
    bool Follows(string runId);

    /// <summary>The runs <see cref="Follows"/> is true for now (their stored events are handed again at a reconciliation).</summary>
    IEnumerable<string> FollowedRunIds();

    /// <summary>
    /// A run as stored, read by the feed: one another replica queued or requeued (before it enters this
    /// replica's dispatch queue), or any unfinished run at a reconciliation. Its events up to
    /// <paramref name="handledThrough"/> need no handling here (older ones, or ones this replica wrote); the
    /// later ones follow through <see cref="OnRelayed"/> if <see cref="Follows"/>.
    /// </summary>
    void OnStoredRun(RunRecord run, long handledThrough);

    /// <summary>An event another replica wrote (or, at a reconciliation, any stored event of a followed run: skip those already seen).</summary>
    void OnRelayed(RunEvent runEvent);
}
