namespace ComfyOperator.Router.Scheduling;

/// <summary>What the queue needs to order and place a run.</summary>
internal sealed record QueuedRun(string RunId, int Priority, long Sequence)
{
    /// <summary>Who submitted it (API key id or user); fair share is between owners.</summary>
    public string? Owner { get; init; }

    /// <summary>The workflow (deployment or preset) it runs; null for a raw graph.</summary>
    public string? Deployment { get; init; }

    /// <summary>The graph as stored (to find the models it needs); null = no requirements.</summary>
    public string? Workflow { get; init; }

    /// <summary>The models <see cref="Workflow"/> needs, when already known at submit; null = read them from the graph.</summary>
    public IReadOnlyList<ModelRequirement>? Models { get; init; }
}
