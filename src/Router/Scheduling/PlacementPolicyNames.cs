namespace ComfyOperator.Router.Scheduling;

/// <summary>The names of the placement policies, as written in <c>Router:PlacementPolicy</c>.</summary>
internal static class PlacementPolicyNames
{
    /// <summary>Fewest prompts queued or running first; ties go round-robin.</summary>
    public const string LeastQueued = "LeastQueued";

    /// <summary>Every eligible worker in turn.</summary>
    public const string RoundRobin = "RoundRobin";

    public static IReadOnlyList<string> All { get; } = [LeastQueued, RoundRobin];
}
