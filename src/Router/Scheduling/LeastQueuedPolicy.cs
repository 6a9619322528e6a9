using System.Buffers;
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
        // Each worker's count is read once (runs finish meanwhile): the least and the ties come from the same reading.
        var rented = ArrayPool<int>.Shared.Rent(eligible.Count);
        try
        {
            var least = int.MaxValue;
            var tied = 0;
            for (var i = 0; i < eligible.Count; i++)
            {
                var assigned = rented[i] = eligible[i].Assigned;
                if (assigned < least)
                {
                    (least, tied) = (assigned, 1);
                }
                else if (assigned == least)
                {
                    tied++;
                }
            }

            var index = (int)((uint)Interlocked.Increment(ref _next) % (uint)tied);
            for (var i = 0; ; i++)
            {
                if (rented[i] == least && index-- == 0)
                {
                    return eligible[i];
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }
}
