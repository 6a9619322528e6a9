using System.Collections.Concurrent;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Model- and label-aware placement. A worker is eligible for a run when it is healthy, connected,
/// under its queue allowance (its own maxQueue, at most the router's), carries the labels the run's
/// workflow selects on, and is known to have every model file the graph loads. Among those the
/// run's policy (the workflow's, else the router's) picks one; the checkpoint/unet it will load is
/// remembered per worker for model affinity.
/// </summary>
internal sealed class RunScheduler : IRunPlacer
{
    private readonly WorkerRegistry _registry;
    private readonly INodeSource _source;
    private readonly WorkerModelInventory _inventory;
    private readonly WorkerNodeClasses _classes;
    private readonly WorkflowCatalog _catalog;
    private readonly RouterOptions _router;
    private readonly WorkflowRoutingOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<WorkerState, bool> _isConnected;
    private readonly Dictionary<string, IPlacementPolicy> _policies = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<Uri, string> _lastModel = new();
    private volatile Dictionary<Uri, NodeEndpoint> _endpoints = [];
    private volatile bool _endpointsHaveMaxQueue;

    // A round's callbacks, made once rather than per decision.
    private readonly Func<RunRequirements, IReadOnlyList<WorkerState>, List<WorkerState>> _compatibleWith;
    private readonly Func<QueuedRun, RunRequirements, IReadOnlyList<WorkerState>, WorkerState> _choose;
    private readonly Action<QueuedRun, RunRequirements, WorkerState> _commit;
    private readonly Func<WorkerState, string?> _lastModelOf;
    private readonly Func<RunRequirements, bool> _usesAffinity;

    /// <summary>The lists of the current placement round, and those the next one reuses.</summary>
    private readonly Lock _roundGate = new();
    private readonly List<List<WorkerState>> _lentLists = [];
    private readonly Stack<List<WorkerState>> _spareLists = new();

    /// <summary>Lists kept for the next round: a round uses one per class of runs it looks at, usually a few.</summary>
    private const int MaxSpareLists = 32;

    /// <summary>
    /// Workers found compatible with each class of runs (<see cref="RunRequirements.Key"/>). Labels, node
    /// classes and model lists change only with a fleet change, which starts a new map, so a "yes" holds
    /// until then and a placement round over a large fleet asks one set per worker. A "no" is worked out
    /// again each time (it asks for a model refresh).
    /// </summary>
    private volatile ConcurrentDictionary<string, ConcurrentDictionary<WorkerState, byte>> _compatible = new(StringComparer.Ordinal);

    /// <summary>Classes of runs remembered in <see cref="_compatible"/> before it starts over (graphs may make any number).</summary>
    private const int CompatibleClassesLimit = 256;

    public RunScheduler(
        WorkerRegistry registry,
        INodeSource source,
        WorkerModelInventory inventory,
        WorkerNodeClasses classes,
        WorkflowCatalog catalog,
        IOptions<RouterOptions> router,
        IOptions<WorkflowRoutingOptions> options,
        TimeProvider time,
        Func<WorkerState, bool> isConnected)
    {
        _registry = registry;
        _source = source;
        _inventory = inventory;
        _classes = classes;
        _catalog = catalog;
        _router = router.Value;
        _options = options.Value;
        _time = time;
        _isConnected = isConnected;
        _compatibleWith = CompatibleWith;
        _choose = Choose;
        _commit = Commit;
        _lastModelOf = LastModel;
        _usesAffinity = UsesAffinity;
        foreach (var name in PlacementPolicyNames.All)
        {
            _policies[name] = PlacementPolicyFactory.Create(name);
        }

        DefaultPolicy = _policies[_router.PlacementPolicy];
        ReadEndpoints();
        source.Changed += (_, _) => ReadEndpoints();
        registry.Changed += (_, _) => FleetChanged();
        inventory.Changed += (_, _) => FleetChanged();
        classes.Changed += (_, _) => FleetChanged();
        catalog.Changed += (_, _) =>
        {
            RequirementsChanged?.Invoke(this, EventArgs.Empty);
            FleetChanged();
        };
    }

    public event EventHandler? Changed;

    public event EventHandler? RequirementsChanged;

    public IPlacementPolicy DefaultPolicy { get; }

    public int WeightOf(string owner) => _options.KeyWeights.TryGetValue(owner, out var weight) ? weight : 1;

    /// <summary>The checkpoint/unet the worker's last placed run loads, or null.</summary>
    public string? LastModel(WorkerState worker) => _lastModel.GetValueOrDefault(worker.BaseAddress);

    public RunRequirements Resolve(QueuedRun run)
    {
        var graph = run.Graph ?? (run.Workflow is null ? null : RunGraph.TryParse(run.Workflow));
        return graph is null ? Build(run, [], [], string.Empty) : Build(run, graph.Models, graph.NodeClasses, graph.RequirementsKey);
    }

    public RunRequirements Refresh(QueuedRun run, RunRequirements previous) =>
        Build(run, previous.Models, previous.NodeClasses, RunGraph.RequirementsKeyOf(previous.Models, previous.NodeClasses));

    /// <param name="graphKey">The graph's part of the key (<see cref="RunGraph.RequirementsKeyOf"/>), worked out once per graph.</param>
    private RunRequirements Build(QueuedRun run, IReadOnlyList<ModelRequirement> models, IReadOnlyList<string> classes, string graphKey)
    {
        var workflow = run.Deployment is null ? null : _catalog.Find(run.Deployment);
        string? affinity = null;
        foreach (var model in models)
        {
            _inventory.Track(model.Folder);
            affinity ??= model.Folder is "checkpoints" or "diffusion_models" ? model.ToString() : null;
        }

        var selector = workflow?.Selector;
        var head = (run.Deployment ?? string.Empty) + "|" + (workflow?.PlacementPolicy ?? string.Empty);
        if (selector is { Count: > 0 })
        {
            head = string.Join('|', [head, .. selector.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")]);
        }

        var key = graphKey.Length == 0 ? head : head + "|" + graphKey;
        return new RunRequirements
        {
            Key = key,
            Deployment = run.Deployment,
            Selector = selector,
            Models = models,
            NodeClasses = classes,
            AffinityModel = affinity,
            PlacementPolicy = workflow?.PlacementPolicy,
        };
    }

    public PlacementRound BeginRound()
    {
        var now = _time.GetUtcNow();
        lock (_roundGate)
        {
            // The previous round is over: its lists serve this one (a large fleet would otherwise allocate them per decision).
            foreach (var lent in _lentLists)
            {
                if (_spareLists.Count < MaxSpareLists)
                {
                    lent.Clear();
                    _spareLists.Push(lent);
                }
            }

            _lentLists.Clear();
            var eligible = Lend();
            foreach (var worker in _registry.Workers)
            {
                if (worker.IsEligible(now, AllowanceOf(worker)) && _isConnected(worker))
                {
                    eligible.Add(worker);
                }
            }

            return new PlacementRound(eligible, _compatibleWith, _choose, _commit, _lastModelOf, _usesAffinity);
        }
    }

    private List<WorkerState> Lend()
    {
        var list = _spareLists.TryPop(out var spare) ? spare : [];
        _lentLists.Add(list);
        return list;
    }

    /// <summary>
    /// The workers of <paramref name="eligible"/> whose labels match and that have the node classes and the models
    /// (asks for a model refresh when only models are missing). The class's remembered workers are looked up once.
    /// </summary>
    private List<WorkerState> CompatibleWith(RunRequirements requirements, IReadOnlyList<WorkerState> eligible)
    {
        // Read before deciding: a "yes" decided on lists that change meanwhile lands in a map already replaced.
        var known = _compatible;
        known.TryGetValue(requirements.Key, out var workers);
        List<WorkerState> compatible;
        lock (_roundGate)
        {
            compatible = Lend();
        }

        foreach (var worker in eligible)
        {
            if (workers is not null && workers.ContainsKey(worker))
            {
                compatible.Add(worker);
                continue;
            }

            if (!IsCompatibleNow(worker, requirements))
            {
                continue;
            }

            if (workers is null)
            {
                if (known.Count >= CompatibleClassesLimit)
                {
                    known.Clear();
                }

                workers = known.GetOrAdd(requirements.Key, static _ => new ConcurrentDictionary<WorkerState, byte>());
            }

            workers[worker] = 0;
            compatible.Add(worker);
        }

        return compatible;
    }

    private bool IsCompatibleNow(WorkerState worker, RunRequirements requirements)
    {
        if (!LabelsMatch(worker, requirements.Selector) || !_classes.Has(worker, requirements.NodeClasses))
        {
            return false;
        }

        if (_inventory.Has(worker, requirements.Models))
        {
            return true;
        }

        _inventory.ReportMissing();
        return false;
    }

    public bool LabelsMatch(WorkerState worker, IReadOnlyDictionary<string, string>? selector)
    {
        if (selector is null || selector.Count == 0)
        {
            return true;
        }

        var labels = _endpoints.TryGetValue(worker.BaseAddress, out var endpoint) ? endpoint.Labels : worker.Endpoint.Labels;
        foreach (var (key, value) in selector)
        {
            if (!labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The graph's node classes that no worker has (empty while some healthy worker's classes are not read yet).</summary>
    public IReadOnlyList<string> UnknownNodeClasses(IReadOnlyList<string> classes) => _classes.MissingEverywhere(classes);

    /// <summary>
    /// <see cref="Readiness"/>, but when every matching worker's lists say the models are missing, the
    /// lists are read again first (a model may have been copied in since): only a fresh "missing" counts.
    /// </summary>
    public async Task<WorkflowReadiness> ReadinessAsync(IReadOnlyDictionary<string, string>? selector, IReadOnlyList<ModelRequirement> models, CancellationToken cancellationToken)
    {
        var readiness = Readiness(selector, models);
        if (!readiness.ModelsMissing)
        {
            return readiness;
        }

        await _inventory.RefreshNowAsync(cancellationToken);
        return Readiness(selector, models);
    }

    /// <summary>
    /// Whether some healthy worker with the labels has the models now: the question of every submit,
    /// answered at the first such worker (<see cref="Readiness"/> counts the fleet, for a refusal).
    /// </summary>
    public bool CanRunNow(IReadOnlyDictionary<string, string>? selector, IReadOnlyList<ModelRequirement> models)
    {
        foreach (var worker in _registry.Workers)
        {
            if (!worker.Removed && worker.ActiveHealth == HealthState.Healthy && LabelsMatch(worker, selector) && _inventory.Has(worker, models))
            {
                return true;
            }
        }

        return false;
    }

    public WorkflowReadiness Readiness(IReadOnlyDictionary<string, string>? selector, IReadOnlyList<ModelRequirement> models)
    {
        var healthy = _registry.Workers.Where(w => !w.Removed && w.ActiveHealth == HealthState.Healthy).ToList();
        var matching = healthy.Where(w => LabelsMatch(w, selector)).ToList();
        var ready = matching.Where(w => _inventory.Has(w, models)).ToList();
        string? reason = null;
        if (ready.Count == 0)
        {
            reason = healthy.Count == 0
                ? "no worker is healthy"
                : matching.Count == 0
                    ? $"none of the {healthy.Count} healthy workers has the labels {string.Join(", ", (selector ?? new Dictionary<string, string>()).Select(p => $"{p.Key}={p.Value}"))}"
                    : $"none of the {matching.Count} matching workers has {string.Join(", ", models.Where(m => !matching.Any(w => _inventory.Has(w, [m]))).DefaultIfEmpty(models[0]))}"
                        + (matching.All(_inventory.IsKnown) ? string.Empty : " (some workers' model lists are still being read)");
        }

        return new WorkflowReadiness(healthy.Count, matching.Count, ready.Count, reason)
        {
            ModelsMissing = ready.Count == 0 && matching.Count > 0 && matching.All(_inventory.IsKnown),
        };
    }

    private int AllowanceOf(WorkerState worker)
    {
        // Most fleets give no worker an allowance of its own: then no lookup per worker and decision.
        if (!_endpointsHaveMaxQueue && worker.Endpoint.MaxQueue is null)
        {
            return _router.MaxQueuePerWorker;
        }

        var own = _endpoints.TryGetValue(worker.BaseAddress, out var endpoint) ? endpoint.MaxQueue : worker.Endpoint.MaxQueue;
        return own is { } n ? Math.Min(n, _router.MaxQueuePerWorker) : _router.MaxQueuePerWorker;
    }

    private IPlacementPolicy PolicyFor(RunRequirements requirements) =>
        requirements.PlacementPolicy is { } name && _policies.TryGetValue(name, out var own) ? own : DefaultPolicy;

    private WorkerState Choose(QueuedRun run, RunRequirements requirements, IReadOnlyList<WorkerState> candidates) =>
        PolicyFor(requirements).Choose(new PlacementContext(run, requirements, _lastModelOf, _options.AffinityLoadCost), candidates);

    private bool UsesAffinity(RunRequirements requirements) => PolicyFor(requirements) is ModelAffinityPolicy;

    private void Commit(QueuedRun run, RunRequirements requirements, WorkerState worker)
    {
        // Written only when it changes: most runs load the model their worker's last run loaded.
        if (requirements.AffinityModel is { } model && !(_lastModel.TryGetValue(worker.BaseAddress, out var last) && string.Equals(last, model, StringComparison.Ordinal)))
        {
            _lastModel[worker.BaseAddress] = model;
        }
    }

    private void ReadEndpoints()
    {
        var previous = _endpoints;
        var current = _source.Current.ToDictionary(n => n.BaseAddress);
        foreach (var (uri, endpoint) in current)
        {
            if (previous.TryGetValue(uri, out var old) && !string.Equals(old.ModelsVersion, endpoint.ModelsVersion, StringComparison.Ordinal))
            {
                _inventory.Invalidate(uri);
            }
        }

        _endpoints = current;
        _endpointsHaveMaxQueue = current.Values.Any(e => e.MaxQueue is not null);
        FleetChanged();
    }

    private void FleetChanged()
    {
        _compatible = new(StringComparer.Ordinal);
        Changed?.Invoke(this, EventArgs.Empty);
    }
}
