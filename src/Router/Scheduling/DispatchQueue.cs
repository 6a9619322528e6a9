namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// The router's own queue of runs waiting for a worker: higher priority first, then submission
/// order. In memory only; the run store is the durable copy and refills it on start.
/// </summary>
internal sealed class DispatchQueue
{
    private readonly Lock _gate = new();
    private readonly SortedSet<QueuedRun> _items = new(QueuedRunComparer.Instance);
    private readonly Dictionary<string, QueuedRun> _byId = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = NewSignal();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Adds the run unless it is already queued; false when <paramref name="limit"/> is reached.</summary>
    public bool TryEnqueue(QueuedRun run, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            if (_byId.ContainsKey(run.RunId))
            {
                return true;
            }

            if (_items.Count >= limit)
            {
                return false;
            }

            _items.Add(run);
            _byId[run.RunId] = run;
        }

        Signal();
        return true;
    }

    public bool TryRemove(string runId)
    {
        lock (_gate)
        {
            if (!_byId.Remove(runId, out var run))
            {
                return false;
            }

            _items.Remove(run);
            return true;
        }
    }

    public bool TryDequeue(out QueuedRun run)
    {
        lock (_gate)
        {
            if (_items.Count == 0)
            {
                run = default!;
                return false;
            }

            run = _items.Min!;
            _items.Remove(run);
            _byId.Remove(run.RunId);
            return true;
        }
    }

    public bool Contains(string runId)
    {
        lock (_gate)
        {
            return _byId.ContainsKey(runId);
        }
    }

    /// <summary>Completes when something was enqueued (or <see cref="Signal"/> was called) after this call.</summary>
    public Task WaitForChangeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _changed.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Wakes the dispatcher: a run arrived or a worker became free.</summary>
    public void Signal()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = NewSignal();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
