using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>The worker with the fewest of our runs on it; ties are broken round-robin so equal workers share the load.</summary>
internal sealed class LeastQueuedPolicy : IPlacementPolicy
{
    private int _next = -1;

    public string Name => PlacementPolicyNames.LeastQueued;

    public WorkerState Choose(IReadOnlyList<WorkerState> eligible)
    {
        var least = eligible.Min(w => w.Assigned);
        var tied = eligible.Where(w => w.Assigned == least).ToList();
        var index = (int)((uint)Interlocked.Increment(ref _next) % (uint)tied.Count);
        return tied[index];
    }
}
