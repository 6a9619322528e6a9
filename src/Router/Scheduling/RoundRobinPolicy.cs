using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Every eligible worker in turn, in address order.</summary>
internal sealed class RoundRobinPolicy : IPlacementPolicy
{
    private int _next = -1;

    public string Name => PlacementPolicyNames.RoundRobin;

    public WorkerState Choose(IReadOnlyList<WorkerState> eligible)
    {
        var index = (int)((uint)Interlocked.Increment(ref _next) % (uint)eligible.Count);
        return eligible[index];
    }
}
