using ComfyOperator.Router.Configuration;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Makes the policy named in configuration (already validated against <see cref="PlacementPolicyNames"/>).</summary>
internal static class PlacementPolicyFactory
{
    public static IPlacementPolicy Create(string name) => name switch
    {
        _ when string.Equals(name, PlacementPolicyNames.LeastQueued, StringComparison.OrdinalIgnoreCase) => new LeastQueuedPolicy(),
        _ when string.Equals(name, PlacementPolicyNames.RoundRobin, StringComparison.OrdinalIgnoreCase) => new RoundRobinPolicy(),
        _ when string.Equals(name, PlacementPolicyNames.PowerOfTwoChoices, StringComparison.OrdinalIgnoreCase) => new PowerOfTwoChoicesPolicy(),
        _ when string.Equals(name, PlacementPolicyNames.ModelAffinity, StringComparison.OrdinalIgnoreCase) => new ModelAffinityPolicy(),
        _ => throw new ArgumentException($"Unknown placement policy '{name}'; use one of {string.Join(", ", PlacementPolicyNames.All)}.", nameof(name)),
    };
}
