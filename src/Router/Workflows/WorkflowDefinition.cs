using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;
using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// A workflow published as an API, as the router serves it: the graph (or graphs, when optional
/// inputs switch parts on), its typed inputs and outputs, the models it loads, which workers may
/// run it and its limits. Built from a WorkflowDeployment (file or cluster) or a preset.
/// </summary>
internal sealed record WorkflowDefinition
{
    public required string Name { get; init; }

    public string? Namespace { get; init; }

    /// <summary>preset, file or kubernetes (<see cref="WorkflowSourceNames"/>).</summary>
    public required string Source { get; init; }

    /// <summary>The built-in graph behind it, when it is (or uses) a preset.</summary>
    public string? Preset { get; init; }

    public string? Description { get; init; }

    public IReadOnlyList<WorkflowInput> Inputs { get; init; } = [];

    /// <summary>Outputs collected; empty = every output node.</summary>
    public IReadOnlyList<WorkflowOutput> Outputs { get; init; } = [];

    /// <summary>Picks the graph for the inputs a run sets (presets switch refiner / img2img on); null when invalid.</summary>
    public Func<IReadOnlySet<string>, WorkflowGraphVariant>? SelectGraph { get; init; }

    /// <summary>Models the default graph loads (loader inputs).</summary>
    public IReadOnlyList<WorkflowModelReference> Models { get; init; } = [];

    /// <summary>Labels a worker must carry; null or empty = any worker.</summary>
    public IReadOnlyDictionary<string, string>? Selector { get; init; }

    /// <summary>Placement policy for this workflow's runs; null = the router's.</summary>
    public string? PlacementPolicy { get; init; }

    /// <summary>Runs wait for a worker instead of getting 503 when none is ready.</summary>
    public bool QueueWhenUnavailable { get; init; }

    /// <summary>
    /// A WorkflowDeployment with <c>spec.autoscaling</c>: the operator adds replicas when runs wait, so a
    /// run waits (scale from zero) instead of getting 503 when no replica is ready.
    /// </summary>
    public bool Autoscaled { get; init; }

    /// <summary>Webhook for runs that do not name their own; null = none. The SSRF check happens at submit.</summary>
    public RunWebhook? DefaultWebhook { get; init; }

    /// <summary>Runs of this workflow waiting for a worker before new ones get 429; null = no own limit.</summary>
    public int? MaxPending { get; init; }

    /// <summary>Why the workflow cannot run (each names the field); empty when valid.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    public bool IsValid => Problems.Count == 0 && SelectGraph is not null;
}
