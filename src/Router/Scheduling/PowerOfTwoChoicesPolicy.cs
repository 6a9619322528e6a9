using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Two distinct random workers, the one with fewer of our runs wins (Mitzenmacher's "power of two
/// choices"): constant cost per decision however many workers there are.
/// </summary>
internal sealed class PowerOfTwoChoicesPolicy(int? seed = null) : IPlacementPolicy
{
    private readonly Lock _gate = new();

    // Load balancing, not security: a seeded pseudo-random source keeps tests and benches repeatable.
#pragma warning disable CA5394
    private readonly Random _random = seed is { } s ? new Random(s) : new Random();

    public string Name => PlacementPolicyNames.PowerOfTwoChoices;

    public WorkerState Choose(IReadOnlyList<WorkerState> eligible)
    {
        if (eligible.Count == 1)
        {
            return eligible[0];
        }

        int first, second;
        lock (_gate)
        {
            first = _random.Next(eligible.Count);
            second = _random.Next(eligible.Count - 1);
        }
#pragma warning restore CA5394

        if (second >= first)
        {
            second++;
        }

        var (a, b) = (eligible[first], eligible[second]);
        return b.Assigned < a.Assigned ? b : a;
    }
}
