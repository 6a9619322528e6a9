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
        return Build(run, graph?.Models ?? [], graph?.NodeClasses ?? []);
    }

    public RunRequirements Refresh(QueuedRun run, RunRequirements previous) => Build(run, previous.Models, previous.NodeClasses);

    private RunRequirements Build(QueuedRun run, IReadOnlyList<ModelRequirement> models, IReadOnlyList<string> classes)
    {
        var workflow = run.Deployment is null ? null : _catalog.Find(run.Deployment);
        foreach (var folder in models.Select(m => m.Folder).Distinct(StringComparer.Ordinal))
        {
            _inventory.Track(folder);
        }

        var selector = workflow?.Selector;
        var affinity = models.FirstOrDefault(m => m.Folder is "checkpoints" or "diffusion_models")?.ToString();
        var key = string.Join('|',
            [run.Deployment ?? string.Empty, workflow?.PlacementPolicy ?? string.Empty,
             .. (selector ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"),
             .. models.Select(m => m.ToString()).Order(StringComparer.Ordinal),
             .. classes.Select(c => "class:" + c)]);
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
        var eligible = new List<WorkerState>();
        foreach (var worker in _registry.Workers)
        {
            if (worker.IsEligible(now, AllowanceOf(worker)) && _isConnected(worker))
            {
                eligible.Add(worker);
            }
        }

        return new PlacementRound(eligible, IsCompatible, Choose, Commit, LastModel, UsesAffinity);
    }

    /// <summary>Labels match, the worker has the node classes and the models (asks for a model refresh when only models are missing).</summary>
    public bool IsCompatible(WorkerState worker, RunRequirements requirements)
    {
        // Read before deciding: a "yes" decided on lists that change meanwhile lands in a map already replaced.
        var known = _compatible;
        if (known.TryGetValue(requirements.Key, out var workers) && workers.ContainsKey(worker))
        {
            return true;
        }

        if (!IsCompatibleNow(worker, requirements))
        {
            return false;
        }

        if (workers is null && known.Count >= CompatibleClassesLimit)
        {
            known.Clear();
        }

        (workers ?? known.GetOrAdd(requirements.Key, static _ => new ConcurrentDictionary<WorkerState, byte>()))[worker] = 0;
        return true;
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
        var own = _endpoints.TryGetValue(worker.BaseAddress, out var endpoint) ? endpoint.MaxQueue : worker.Endpoint.MaxQueue;
        return own is { } n ? Math.Min(n, _router.MaxQueuePerWorker) : _router.MaxQueuePerWorker;
    }

    private IPlacementPolicy PolicyFor(RunRequirements requirements) =>
        requirements.PlacementPolicy is { } name && _policies.TryGetValue(name, out var own) ? own : DefaultPolicy;

    private WorkerState Choose(QueuedRun run, RunRequirements requirements, IReadOnlyList<WorkerState> candidates) =>
        PolicyFor(requirements).Choose(new PlacementContext(run, requirements, LastModel, _options.AffinityLoadCost), candidates);

    private bool UsesAffinity(RunRequirements requirements) => PolicyFor(requirements) is ModelAffinityPolicy;

    private void Commit(QueuedRun run, RunRequirements requirements, WorkerState worker)
    {
        if (requirements.AffinityModel is { } model)
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
        FleetChanged();
    }

    private void FleetChanged()
    {
        _compatible = new(StringComparer.Ordinal);
        Changed?.Invoke(this, EventArgs.Empty);
    }
}
