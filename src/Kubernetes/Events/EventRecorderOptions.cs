namespace ComfyOperator.Kubernetes.Events;

public sealed record EventRecorderOptions
{
    /// <summary><c>source.component</c> and <c>reportingComponent</c>, e.g. <c>comfy-operator</c>.</summary>
    public required string Component { get; init; }

    /// <summary><c>source.host</c> and <c>reportingInstance</c> (the pod name).</summary>
    public string? Instance { get; init; }

    /// <summary>Repeats inside this window are folded into one Event (client-go uses 10 minutes).</summary>
    public TimeSpan AggregationWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How many distinct events to remember for aggregation.</summary>
    public int CacheSize { get; init; } = 4096;
}
