using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Picks one worker among the eligible ones (never empty). Named in <see cref="PlacementPolicyNames"/>.</summary>
internal interface IPlacementPolicy
{
    string Name { get; }

    WorkerState Choose(IReadOnlyList<WorkerState> eligible);

    /// <summary>Picks with the run in view (its models, the workers' loaded models); by default ignores it.</summary>
    WorkerState Choose(PlacementContext context, IReadOnlyList<WorkerState> eligible) => Choose(eligible);
}
