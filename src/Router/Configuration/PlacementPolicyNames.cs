namespace ComfyOperator.Router.Configuration;

/// <summary>The names of the placement policies, as written in <c>Router:PlacementPolicy</c> and the workflow annotation.</summary>
internal static class PlacementPolicyNames
{
    /// <summary>Fewest prompts queued or running first; ties go round-robin.</summary>
    public const string LeastQueued = "LeastQueued";

    /// <summary>Every eligible worker in turn.</summary>
    public const string RoundRobin = "RoundRobin";

    /// <summary>Two random eligible workers, the less loaded wins: O(1) per decision, near least-queued balance.</summary>
    public const string PowerOfTwoChoices = "PowerOfTwoChoices";

    /// <summary>Least queued, counting a checkpoint switch as extra queued work: keeps each model on the workers that have it loaded.</summary>
    public const string ModelAffinity = "ModelAffinity";

    public static IReadOnlyList<string> All { get; } = [LeastQueued, RoundRobin, PowerOfTwoChoices, ModelAffinity];
}
