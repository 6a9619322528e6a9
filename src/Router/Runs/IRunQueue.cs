namespace ComfyOperator.Router.Runs;

/// <summary>The queue of runs waiting for a worker, as the run lifecycle uses it (the dispatch queue implements it).</summary>
internal interface IRunQueue
{
    int Count { get; }

    /// <summary>Queues a stored Queued run with its parsed graph (null: parsed from the stored workflow).</summary>
    void Enqueue(RunRecord run, RunGraph? graph);

    bool TryRemove(string runId);

    /// <summary>Another router replica claimed the run (owned by <paramref name="owner"/>) for its worker: out of the queue, counted in fair share.</summary>
    void ClaimedElsewhere(string runId, string? owner);

    /// <summary>The ids of the runs in the queue now.</summary>
    IReadOnlyList<string> QueuedIds();
}
