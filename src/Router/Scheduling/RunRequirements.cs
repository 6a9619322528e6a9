using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// What a worker must offer to take a run: the labels its workflow selects on, the model files
/// its graph loads and the node classes it uses; plus the checkpoint/unet it will load (for model affinity) and the workflow's own
/// placement policy. Runs with equal requirements share a <see cref="Key"/> and are placed as a class.
/// </summary>
internal sealed record RunRequirements
{
    public required string Key { get; init; }

    public string? Deployment { get; init; }

    public IReadOnlyDictionary<string, string>? Selector { get; init; }

    public IReadOnlyList<ModelRequirement> Models { get; init; } = [];

    /// <summary>The node classes the graph uses (ordinal order): a worker whose <c>/object_info</c> lacks one cannot take the run.</summary>
    public IReadOnlyList<string> NodeClasses { get; init; } = [];

    /// <summary>The checkpoint or diffusion model the run loads first; null when it loads none.</summary>
    public string? AffinityModel { get; init; }

    public string? PlacementPolicy { get; init; }
}
