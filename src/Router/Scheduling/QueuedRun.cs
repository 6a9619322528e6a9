using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Scheduling;

/// <summary>What the queue needs to order and place a run.</summary>
internal sealed record QueuedRun(string RunId, int Priority, long Sequence)
{
    /// <summary>Who submitted it (API key id or user); fair share is between owners.</summary>
    public string? Owner { get; init; }

    /// <summary>The workflow (deployment or preset) it runs; null for a raw graph.</summary>
    public string? Deployment { get; init; }

    /// <summary>The graph as stored; read only when <see cref="Graph"/> is not given.</summary>
    public string? Workflow { get; init; }

    /// <summary>The parsed graph and its models, carried from submit to the attempt that posts it; null = parse <see cref="Workflow"/>.</summary>
    public RunGraph? Graph { get; init; }
}
