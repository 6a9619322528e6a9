using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// One placement decision: the eligible workers are listed once, and the workers compatible with a
/// class of runs (same labels and models) are worked out once per class, so a decision costs
/// O(workers × classes), not O(workers × queued runs). Choosing does not commit: the queue may
/// still swap in a run that fits the chosen worker's loaded model before <see cref="Commit"/>.
/// </summary>
internal sealed class PlacementRound(
    IReadOnlyList<WorkerState> eligible,
    Func<RunRequirements, IReadOnlyList<WorkerState>, List<WorkerState>> compatibleWith,
    Func<QueuedRun, RunRequirements, IReadOnlyList<WorkerState>, WorkerState> choose,
    Action<QueuedRun, RunRequirements, WorkerState>? commit = null,
    Func<WorkerState, string?>? loadedModel = null,
    Func<RunRequirements, bool>? usesAffinity = null)
{
    private readonly Dictionary<string, List<WorkerState>> _byClass = new(StringComparer.Ordinal);

    public int EligibleCount => eligible.Count;

    public bool TryPlace(QueuedRun run, RunRequirements requirements, out WorkerState worker)
    {
        var candidates = CompatibleWith(requirements);
        if (candidates.Count == 0)
        {
            worker = default!;
            return false;
        }

        worker = choose(run, requirements, candidates);
        return true;
    }

    public bool IsCompatible(WorkerState worker, RunRequirements requirements) => CompatibleWith(requirements).Contains(worker);

    /// <summary>The checkpoint/unet the worker has loaded (as far as placements tell), or null.</summary>
    public string? LoadedModel(WorkerState worker) => loadedModel?.Invoke(worker);

    /// <summary>Whether the run is placed with model affinity (its policy is ModelAffinity and it loads a model).</summary>
    public bool UsesAffinity(RunRequirements requirements) => requirements.AffinityModel is not null && (usesAffinity?.Invoke(requirements) ?? false);

    public void Commit(QueuedRun run, RunRequirements requirements, WorkerState worker) => commit?.Invoke(run, requirements, worker);

    private List<WorkerState> CompatibleWith(RunRequirements requirements)
    {
        if (!_byClass.TryGetValue(requirements.Key, out var candidates))
        {
            candidates = compatibleWith(requirements, eligible);
            _byClass[requirements.Key] = candidates;
        }

        return candidates;
    }
}
