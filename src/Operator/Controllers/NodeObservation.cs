using ComfyOperator.Operator.Health;

namespace ComfyOperator.Operator.Controllers;

/// <summary>Everything observed about a node in one reconcile, input of <see cref="NodeStatusCalculator"/>.</summary>
internal sealed record NodeObservation
{
    public bool External { get; init; }

    public string? Endpoint { get; init; }

    public string? PodName { get; init; }

    public PodState Pod { get; init; }

    public string? PodMessage { get; init; }

    public ModelsState Models { get; init; }

    public string? ModelsMessage { get; init; }

    /// <summary>Null when the node was not probed (no endpoint yet).</summary>
    public ProbeResult? Probe { get; init; }

    public int FailureThreshold { get; init; } = 3;

    /// <summary>The pod is outdated and being drained before it is replaced (the node is cordoned meanwhile).</summary>
    public bool Draining { get; init; }
}
