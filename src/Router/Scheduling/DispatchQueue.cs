using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// The router's own queue of runs waiting for a worker. Higher priority first; within a priority,
/// weighted fair share between owners (API keys): the owner that has been served least relative to
/// its weight goes next, so a flooding key cannot starve a light one; FIFO within an owner. With a
/// <see cref="IRunPlacer"/>, a run is only taken when some eligible worker can run it (labels,
/// models), so a run waiting for a model nobody has does not hold up the others. Runs are kept per
/// owner and per class of requirements: a decision looks at one head per (owner, class).
/// In memory only; the run store is the durable copy and refills it on start.
/// With active/active replicas the fair-share clock counts every replica's claims: a run taken here counts
/// when it is taken (and is given back if the claim fails), a run another replica claimed counts when its
/// claim is heard (<see cref="ClaimedElsewhere"/>), so the keys share the whole fleet, not each replica's part.
/// </summary>
internal sealed class DispatchQueue : IRunQueue
{
    private readonly Lock _gate = new();

    /// <summary>One decision at a time: a round's lists are reused by the next one. Taken before <see cref="_gate"/>, never inside it.</summary>
    private readonly Lock _deciding = new();
    private readonly Dictionary<string, Entry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OwnerQueue> _owners = new(StringComparer.Ordinal);
    private readonly List<Entry> _candidates = [];

    /// <summary>Runs taken here whose claim is not settled yet, by owner: counted once, whoever wins the claim.</summary>
    private readonly Dictionary<string, string> _claiming = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = NewSignal();

    /// <summary><see cref="_byId"/>'s count, readable without the lock (every submit asks it).</summary>
    private int _count;

    public DispatchQueue(IRunPlacer placer)
    {
        Placer = placer;
        placer.Changed += (_, _) => Signal();
        placer.RequirementsChanged += (_, _) => ResolveAgain();
    }

    public IRunPlacer Placer { get; }

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(RunRecord run, RunGraph? graph) =>
        TryEnqueue(new QueuedRun(run.Id, run.Priority, run.Sequence)
        {
            Owner = run.Owner,
            Deployment = run.Deployment,
            Workflow = run.Workflow,
            Graph = graph ?? RunGraph.TryParse(run.Workflow),
        });

    /// <summary>Adds the run unless it is already queued; false when <paramref name="limit"/> is reached.</summary>
    public bool TryEnqueue(QueuedRun run, int limit = int.MaxValue)
    {
        var requirements = Placer.Resolve(run);
        lock (_gate)
        {
            if (_byId.ContainsKey(run.RunId))
            {
                return true;
            }

            if (_byId.Count >= limit)
            {
                return false;
            }

            var ownerName = run.Owner ?? string.Empty;
            var owner = Owner(ownerName);

            if (owner.Count == 0)
            {
                Level(owner);
            }

            var entry = new Entry(run, requirements, ownerName);
            owner.Add(entry);
            _byId[run.RunId] = entry;
            Volatile.Write(ref _count, _byId.Count);
        }

        Signal();
        return true;
    }

    public bool TryRemove(string runId)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(runId, out var entry))
            {
                return false;
            }

            RemoveLocked(entry);
            return true;
        }
    }

    /// <summary>
    /// The one scheduling decision: the best head by priority, then fair share, then age, that some
    /// eligible worker can take, and that worker (the run's policy chose it; affinity is recorded).
    /// </summary>
    public bool TryDequeue(out QueuedRun run, out Nodes.WorkerState worker)
    {
        run = default!;
        worker = default!;
        if (Count == 0)
        {
            return false;
        }

        // The eligible workers are listed outside the queue's lock: over a large fleet that takes a while,
        // and submissions, settled claims and signals need the lock meanwhile.
        lock (_deciding)
        {
            var round = Placer.BeginRound();
            return round.EligibleCount > 0 && TryDequeue(round, out run, out worker);
        }
    }

    private bool TryDequeue(PlacementRound round, out QueuedRun run, out Nodes.WorkerState worker)
    {
        lock (_gate)
        {
            run = default!;
            worker = default!;
            if (_byId.Count == 0)
            {
                // Emptied (a cancel, another replica's claim) while the round was listed.
                return false;
            }

            if (Decide(round, arriving: null) is not ({ } chosen, { } placed))
            {
                return false;
            }

            run = Take(chosen);
            worker = placed;
            return true;
        }
    }

    /// <summary>
    /// The decision for a run being submitted, before it is stored: the one <see cref="TryDequeue(out QueuedRun, out Nodes.WorkerState)"/>
    /// would make with the run in the queue (as its newest), taken at once when it falls on this run. True, with its worker,
    /// when no queued run that goes before it can be placed now and the run can: it is then counted as taken (fair share),
    /// and its claim is settled with <see cref="ClaimSettled"/> once the store has it, or has refused it. False otherwise:
    /// nothing changed, and the run is to be stored and queued as usual.
    /// </summary>
    public bool TryTakeNow(QueuedRun run, out Nodes.WorkerState worker)
    {
        worker = default!;
        lock (_deciding)
        {
            // Every worker full (the usual state under load): nothing to decide, and the run's requirements are worked out when it is queued.
            var round = Placer.BeginRound();
            if (round.EligibleCount == 0)
            {
                return false;
            }

            var requirements = Placer.Resolve(run);
            lock (_gate)
            {
                var ownerName = run.Owner ?? string.Empty;
                var arriving = new Entry(run, requirements, ownerName);
                var owner = Owner(ownerName);
                if (owner.Count == 0)
                {
                    Level(owner);
                }

                if (Decide(round, arriving) is not (_, { } placed))
                {
                    return false;
                }

                CountTaken(arriving);
                worker = placed;
                return true;
            }
        }
    }

    /// <summary>
    /// The best head (with <paramref name="arriving"/>, a run not queued yet, among them) that the round can place, and
    /// its worker, committed to the round; null when none can be placed, or when <paramref name="arriving"/> loses to a
    /// queued run (nothing is committed then: the dispatcher decides for that one).
    /// </summary>
    private (Entry Chosen, Nodes.WorkerState Worker)? Decide(PlacementRound round, Entry? arriving)
    {
        _candidates.Clear();
        foreach (var owner in _owners.Values)
        {
            owner.AddHeads(_candidates);
        }

        if (arriving is not null)
        {
            _candidates.Add(arriving);
        }

        // Usually the best head can be placed: find it in one pass, sort the rest only when it cannot.
        var best = 0;
        for (var i = 1; i < _candidates.Count; i++)
        {
            if (Compare(_candidates[i], _candidates[best]) < 0)
            {
                best = i;
            }
        }

        (_candidates[0], _candidates[best]) = (_candidates[best], _candidates[0]);
        var sorted = false;
        for (var index = 0; index < _candidates.Count; index++)
        {
            if (index == 1 && !sorted)
            {
                _candidates.Sort(1, _candidates.Count - 1, Comparer<Entry>.Create(Compare));
                sorted = true;
            }

            var candidate = _candidates[index];
            if (round.TryPlace(candidate.Run, candidate.Requirements, out var placed))
            {
                var chosen = SwapForLoadedModel(round, candidate, placed);
                if (arriving is not null && !ReferenceEquals(chosen, arriving))
                {
                    return null;
                }

                round.Commit(chosen.Run, chosen.Requirements, placed);
                return (chosen, placed);
            }
        }

        return null;
    }

    /// <summary>
    /// The claim of a run this queue handed out (<see cref="TryDequeue"/>) is settled. A claim the store refused
    /// (another replica won it, or it was cancelled) does not count (<paramref name="counts"/> false) and gives
    /// its count back, unless the winner's claim was heard first and took the count over.
    /// </summary>
    public void ClaimSettled(string runId, bool counts)
    {
        lock (_gate)
        {
            if (_claiming.Remove(runId, out var ownerName) && !counts && _owners.TryGetValue(ownerName, out var owner))
            {
                owner.Served -= 1.0 / owner.Weight;
            }
        }
    }

    /// <summary>
    /// Another replica claimed the run for its worker: it leaves this queue, and its owner's clock moves as
    /// for a run taken here, except when this replica took it too and counted it already.
    /// </summary>
    public void ClaimedElsewhere(string runId, string? owner)
    {
        lock (_gate)
        {
            if (_byId.TryGetValue(runId, out var entry))
            {
                RemoveLocked(entry);
            }

            if (!_claiming.Remove(runId))
            {
                var counted = Owner(entry?.Owner ?? owner ?? string.Empty);
                counted.Served += 1.0 / counted.Weight;
            }
        }
    }

    public IReadOnlyList<string> QueuedIds()
    {
        lock (_gate)
        {
            return [.. _byId.Keys];
        }
    }

    public bool Contains(string runId)
    {
        lock (_gate)
        {
            return _byId.ContainsKey(runId);
        }
    }

    /// <summary>The requirements the run was queued with (null when not queued).</summary>
    public RunRequirements? RequirementsOf(string runId)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(runId, out var entry) ? entry.Requirements : null;
        }
    }

    /// <summary>Works out every queued run's requirements again (workflows changed: new selector, policy, or a deployment that arrived late).</summary>
    public void ResolveAgain()
    {
        List<Entry> entries;
        lock (_gate)
        {
            entries = [.. _byId.Values];
        }

        var resolved = entries.Select(e => (e, Placer.Refresh(e.Run, e.Requirements))).ToList();
        lock (_gate)
        {
            foreach (var (entry, requirements) in resolved)
            {
                if (_byId.TryGetValue(entry.Run.RunId, out var current) && ReferenceEquals(current, entry) && current.Requirements.Key != requirements.Key)
                {
                    var owner = _owners[entry.Owner];
                    owner.Remove(entry);
                    var updated = new Entry(entry.Run, requirements, entry.Owner) { Skips = entry.Skips };
                    owner.Add(updated);
                    _byId[entry.Run.RunId] = updated;
                }
            }
        }

        Signal();
    }

    /// <summary>Completes when something was enqueued (or <see cref="Signal"/> or <see cref="Wake"/> was called) after this call.</summary>
    public Task WaitForChangeAsync() => Volatile.Read(ref _changed).Task;

    /// <summary>
    /// Wakes the dispatcher: a run arrived or a worker became free. Only while runs wait: with none queued
    /// there is nothing to decide, and the next run's arrival wakes it (its count is set before it signals).
    /// </summary>
    public void Signal()
    {
        if (Count > 0)
        {
            Wake();
        }
    }

    /// <summary>Wakes the dispatcher whether or not runs wait (it is stopping).</summary>
    public void Wake() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    /// <summary>
    /// Model affinity on the run side: when the chosen worker would have to switch models for this
    /// run, and the same owner has a run of the same priority for the model the worker has loaded,
    /// that run goes instead. A run is passed over at most <see cref="MaxAffinitySkips"/> times, so
    /// FIFO within an owner bends but never starves; fair share between owners is untouched.
    /// </summary>
    private Entry SwapForLoadedModel(PlacementRound round, Entry candidate, Nodes.WorkerState worker)
    {
        if (!round.UsesAffinity(candidate.Requirements) || candidate.Skips >= MaxAffinitySkips)
        {
            return candidate;
        }

        var loaded = round.LoadedModel(worker);
        if (loaded is null || string.Equals(loaded, candidate.Requirements.AffinityModel, StringComparison.Ordinal))
        {
            return candidate;
        }

        foreach (var other in _candidates)
        {
            if (!ReferenceEquals(other, candidate) && other.Run.Priority == candidate.Run.Priority
                && string.Equals(other.Owner, candidate.Owner, StringComparison.Ordinal)
                && string.Equals(other.Requirements.AffinityModel, loaded, StringComparison.Ordinal)
                && round.IsCompatible(worker, other.Requirements))
            {
                candidate.Skips++;
                return other;
            }
        }

        return candidate;
    }

    private int Compare(Entry a, Entry b)
    {
        var byPriority = b.Run.Priority.CompareTo(a.Run.Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }

        if (!string.Equals(a.Owner, b.Owner, StringComparison.Ordinal))
        {
            var byShare = _owners[a.Owner].Served.CompareTo(_owners[b.Owner].Served);
            if (byShare != 0)
            {
                return byShare;
            }
        }

        return QueuedRunComparer.Instance.Compare(a.Run, b.Run);
    }

    private QueuedRun Take(Entry entry)
    {
        CountTaken(entry);
        RemoveLocked(entry);
        return entry.Run;
    }

    /// <summary>The run is taken: its owner's fair-share clock moves, until its claim is settled.</summary>
    private void CountTaken(Entry entry)
    {
        var owner = _owners[entry.Owner];
        owner.Served += 1.0 / owner.Weight;
        _claiming[entry.Run.RunId] = entry.Owner;
    }

    /// <summary>An owner coming back (nothing queued) starts level with the others, not with credit banked while idle.</summary>
    private void Level(OwnerQueue owner)
    {
        var floor = _owners.Values.Where(o => o.Count > 0).Select(o => o.Served).DefaultIfEmpty(owner.Served).Min();
        owner.Served = Math.Max(owner.Served, floor);
    }

    private OwnerQueue Owner(string name)
    {
        if (!_owners.TryGetValue(name, out var owner))
        {
            owner = new OwnerQueue(Math.Max(1, Placer.WeightOf(name)));
            _owners[name] = owner;
        }

        return owner;
    }

    private void RemoveLocked(Entry entry)
    {
        _byId.Remove(entry.Run.RunId);
        Volatile.Write(ref _count, _byId.Count);
        _owners[entry.Owner].Remove(entry);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Times a run may be passed over for one that fits a worker's loaded model.</summary>
    private const int MaxAffinitySkips = 8;

    private sealed class Entry(QueuedRun run, RunRequirements requirements, string owner)
    {
        public QueuedRun Run { get; } = run;

        public RunRequirements Requirements { get; } = requirements;

        public string Owner { get; } = owner;

        /// <summary>Times passed over for a run that fits a worker's loaded model.</summary>
        public int Skips { get; set; }
    }

    /// <summary>One owner's runs, split by class of requirements, each class in priority then age order.</summary>
    private sealed class OwnerQueue(int weight)
    {
        private static readonly IComparer<Entry> Order = Comparer<Entry>.Create((a, b) => QueuedRunComparer.Instance.Compare(a.Run, b.Run));
        private readonly Dictionary<string, SortedSet<Entry>> _classes = new(StringComparer.Ordinal);

        public int Weight { get; } = weight;

        /// <summary>Runs taken, each counting 1/weight: the fair-share clock.</summary>
        public double Served { get; set; }

        public int Count { get; private set; }

        public void Add(Entry entry)
        {
            if (!_classes.TryGetValue(entry.Requirements.Key, out var set))
            {
                set = new SortedSet<Entry>(Order);
                _classes[entry.Requirements.Key] = set;
            }

            set.Add(entry);
            Count++;
        }

        public void Remove(Entry entry)
        {
            if (_classes.TryGetValue(entry.Requirements.Key, out var set) && set.Remove(entry))
            {
                Count--;
                if (set.Count == 0)
                {
                    _classes.Remove(entry.Requirements.Key);
                }
            }
        }

        public void AddHeads(List<Entry> heads)
        {
            foreach (var set in _classes.Values)
            {
                heads.Add(set.Min!);
            }
        }
    }
}
