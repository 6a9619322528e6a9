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
        // One read of each worker's count: attempts end on other threads, and a count read twice could
        // leave the least matching nobody (the dispatcher then died on an empty tie).
        var least = int.MaxValue;
        var tied = new List<WorkerState>(1);
        foreach (var worker in eligible)
        {
            var assigned = worker.Assigned;
            if (assigned < least)
            {
                least = assigned;
                tied.Clear();
            }

            if (assigned == least)
            {
                tied.Add(worker);
            }
        }

        var index = (int)((uint)Interlocked.Increment(ref _next) % (uint)tied.Count);
        return tied[index];
    }
}
