namespace ComfyOperator.Router.Nodes;

/// <summary>
/// What the router knows about one worker. Health is kept the way YARP keeps it for destinations:
/// active (the <c>/system_stats</c> probe) apart from passive (failed dispatches, stalls), and a
/// worker takes runs only when both say healthy.
/// </summary>
internal sealed class WorkerState(NodeEndpoint endpoint)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _runs = new(StringComparer.Ordinal);

    /// <summary>Our runs whose prompt has ended on the worker while their attempt still copies its outputs from it (no slot).</summary>
    private readonly HashSet<string> _finishing = new(StringComparer.Ordinal);
    private HealthState _active = HealthState.Unknown;
    private DateTimeOffset? _passiveUnhealthyUntil;
    private bool _cordoned;
    private bool _sourceCordoned;
    private bool _draining;

    public NodeEndpoint Endpoint { get; } = endpoint;

    public Uri BaseAddress => Endpoint.BaseAddress;

    public string Name { get; } = endpoint.BaseAddress.GetLeftPart(UriPartial.Authority);

    public bool Removed { get; set; }

    /// <summary>Takes no new runs and finishes what it has (<c>PATCH /v1/nodes/{id}</c>, or a drain).</summary>
    public bool Cordoned
    {
        get
        {
            lock (_gate)
            {
                return _cordoned;
            }
        }

        set
        {
            lock (_gate)
            {
                _cordoned = value;
            }
        }
    }

    /// <summary>
    /// Cordoned by the worker's source (a ComfyNode's <c>spec.unschedulable</c> or its deletion), kept
    /// apart from <see cref="Cordoned"/> so that the API's cordon and the cluster's do not undo each other.
    /// </summary>
    public bool CordonedBySource
    {
        get
        {
            lock (_gate)
            {
                return _sourceCordoned;
            }
        }

        set
        {
            lock (_gate)
            {
                _sourceCordoned = value;
            }
        }
    }

    /// <summary>
    /// Cordoned (by the API or the source) and none of our runs on it (placed or still finishing: their
    /// outputs are read from the worker), nor any prompt in the queue the worker reports. Since a cordoned worker is assigned nothing (<see cref="TryAssign"/> refuses), a
    /// worker that is drained stays drained until it is uncordoned: what the operator waits for before
    /// it deletes the worker's pod.
    /// </summary>
    public bool Drained
    {
        get
        {
            lock (_gate)
            {
                return (_cordoned || _sourceCordoned) && _runs.Count == 0 && _finishing.Count == 0 && QueueRemaining is not > 0;
            }
        }
    }

    /// <summary>Cordoned and removed once it has no run left (<c>DELETE /v1/nodes/{id}</c> of a busy worker).</summary>
    public bool Draining
    {
        get => Volatile.Read(ref _draining);
        set => Volatile.Write(ref _draining, value);
    }

    /// <summary>None of our runs is placed on it or finishing on it (what a drain, a removal and a lease handed back wait for).</summary>
    public bool IsIdle
    {
        get
        {
            lock (_gate)
            {
                return _runs.Count == 0 && _finishing.Count == 0;
            }
        }
    }

    public HealthState ActiveHealth
    {
        get
        {
            lock (_gate)
            {
                return _active;
            }
        }
    }

    public int ConsecutiveProbeFailures { get; private set; }

    public DateTimeOffset? LastProbeAt { get; private set; }

    public string? LastError { get; private set; }

    public string? ComfyVersion { get; private set; }

    public IReadOnlyList<GpuDevice> Devices { get; private set; } = [];

    /// <summary>Prompts the worker reports as running plus pending (any client's).</summary>
    public int? QueueRemaining { get; set; }

    /// <summary>The run currently executing on this worker, as far as we know.</summary>
    public string? RunningRunId { get; set; }

    /// <summary>Our runs placed on this worker whose prompt has not ended there (the slots in use).</summary>
    public int Assigned
    {
        get
        {
            lock (_gate)
            {
                return _runs.Count;
            }
        }
    }

    public IReadOnlyList<string> AssignedRuns
    {
        get
        {
            lock (_gate)
            {
                return [.. _runs];
            }
        }
    }

    /// <summary>Our runs whose prompt has ended on this worker and whose outputs are still being copied from it (<see cref="PromptEnded"/>).</summary>
    public int Finishing
    {
        get
        {
            lock (_gate)
            {
                return _finishing.Count;
            }
        }
    }

    public HealthState PassiveHealth(DateTimeOffset now)
    {
        lock (_gate)
        {
            return PassivelyOut(now) ? HealthState.Unhealthy : HealthState.Healthy;
        }
    }

    public bool IsEligible(DateTimeOffset now, int maxQueue)
    {
        lock (_gate)
        {
            return !Removed
                && !_cordoned
                && !_sourceCordoned
                && _active == HealthState.Healthy
                && !PassivelyOut(now)
                && _runs.Count < 1 + maxQueue;
        }
    }

    /// <summary>Reserves a slot for a run; false if the worker filled up or was cordoned meanwhile.</summary>
    public bool TryAssign(string runId, int maxQueue)
    {
        lock (_gate)
        {
            if (_runs.Contains(runId))
            {
                return true;
            }

            if (_runs.Count >= 1 + maxQueue || _cordoned || _sourceCordoned)
            {
                return false;
            }

            _runs.Add(runId);
            return true;
        }
    }

    /// <summary>Reserves a slot regardless of the allowance (restart recovery: the run is already there).</summary>
    public void ForceAssign(string runId)
    {
        lock (_gate)
        {
            _runs.Add(runId);
        }
    }

    /// <summary>
    /// The run's prompt has ended on the worker (success, error, interrupt): its slot is free for the next run
    /// while its attempt copies the outputs, which keeps the worker from counting as idle until
    /// <see cref="Release"/>. False when the run held no slot (already released).
    /// </summary>
    public bool PromptEnded(string runId)
    {
        lock (_gate)
        {
            if (RunningRunId == runId)
            {
                RunningRunId = null;
            }

            if (!_runs.Remove(runId))
            {
                return false;
            }

            _finishing.Add(runId);
            return true;
        }
    }

    /// <summary>The run's attempt is over: its slot, or its finishing copy, is given back.</summary>
    public void Release(string runId)
    {
        lock (_gate)
        {
            _runs.Remove(runId);
            _finishing.Remove(runId);
            if (RunningRunId == runId)
            {
                RunningRunId = null;
            }
        }
    }

    public void ReportProbeSuccess(DateTimeOffset now, string? version, IReadOnlyList<GpuDevice> devices)
    {
        lock (_gate)
        {
            _active = HealthState.Healthy;
            ConsecutiveProbeFailures = 0;
            LastProbeAt = now;
            ComfyVersion = version;
            Devices = devices;
        }
    }

    /// <summary>Records a failed probe; the worker turns unhealthy at <paramref name="threshold"/> failures in a row (or at once if never seen healthy).</summary>
    public void ReportProbeFailure(DateTimeOffset now, string error, int threshold)
    {
        lock (_gate)
        {
            ConsecutiveProbeFailures++;
            LastProbeAt = now;
            LastError = error;
            if (_active != HealthState.Healthy || ConsecutiveProbeFailures >= threshold)
            {
                _active = HealthState.Unhealthy;
            }
        }
    }

    /// <summary>
    /// After a passive failure the worker is out until <see cref="ReportPassiveFailure"/>'s time has
    /// passed AND its queue has drained (the stalled prompt ended or was interrupted): a worker still
    /// stuck on a prompt would only trap the next runs behind it. Call under <c>_gate</c>.
    /// </summary>
    private bool PassivelyOut(DateTimeOffset now)
    {
        if (_passiveUnhealthyUntil is not { } until)
        {
            return false;
        }

        if (until > now || QueueRemaining is not 0)
        {
            return true;
        }

        _passiveUnhealthyUntil = null;
        return false;
    }

    /// <summary>Passive health: a failed dispatch or a stall takes the worker out of rotation until it recovers (see <see cref="PassivelyOut"/>).</summary>
    public void ReportPassiveFailure(DateTimeOffset until, string error)
    {
        lock (_gate)
        {
            _passiveUnhealthyUntil = until;
            LastError = error;
        }
    }

    public void MarkActiveUnhealthy(string error)
    {
        lock (_gate)
        {
            _active = HealthState.Unhealthy;
            LastError = error;
        }
    }

    public void ClearPassiveFailure()
    {
        lock (_gate)
        {
            _passiveUnhealthyUntil = null;
        }
    }

    /// <summary>Idle, Busy or Offline, as in the original Comfy Router's admin page.</summary>
    public string Phase(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_active != HealthState.Healthy)
            {
                return _active == HealthState.Unknown ? "Pending" : "Offline";
            }

            return _runs.Count > 0 || QueueRemaining > 0 ? "Busy" : "Idle";
        }
    }
}
