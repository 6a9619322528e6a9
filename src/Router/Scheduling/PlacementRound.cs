using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// One placement decision: the eligible workers are listed once, and the workers compatible with a
/// class of runs (same labels and models) are worked out once per class, so a decision costs
/// O(workers × classes), not O(workers × queued runs).
/// </summary>
internal sealed class PlacementRound(IReadOnlyList<WorkerState> eligible, Func<WorkerState, RunRequirements, bool> compatible, Func<QueuedRun, RunRequirements, IReadOnlyList<WorkerState>, WorkerState> choose)
{
    private readonly Dictionary<string, List<WorkerState>> _byClass = new(StringComparer.Ordinal);

    public int EligibleCount => eligible.Count;

    public bool TryPlace(QueuedRun run, RunRequirements requirements, out WorkerState worker)
    {
        if (!_byClass.TryGetValue(requirements.Key, out var candidates))
        {
            candidates = [];
            foreach (var w in eligible)
            {
                if (compatible(w, requirements))
                {
                    candidates.Add(w);
                }
            }

            _byClass[requirements.Key] = candidates;
        }

        if (candidates.Count == 0)
        {
            worker = default!;
            return false;
        }

        worker = choose(run, requirements, candidates);
        return true;
    }
}
