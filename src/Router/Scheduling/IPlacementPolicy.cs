using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Picks one worker among the eligible ones (never empty). Named in <see cref="PlacementPolicyNames"/>.</summary>
internal interface IPlacementPolicy
{
    string Name { get; }

    WorkerState Choose(IReadOnlyList<WorkerState> eligible);
}
