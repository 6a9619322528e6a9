namespace ComfyOperator.Kubernetes.Informers;

public sealed record InformerOptions
{
    /// <summary>Namespace to watch; null for a cluster-scoped type or all namespaces.</summary>
    public string? Namespace { get; init; }

    public string? LabelSelector { get; init; }

    /// <summary>LIST page size.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Each watch asks the server to end after a random time in [min, 2×min] (client-go: 5 to 10 minutes).</summary>
    public TimeSpan MinWatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>First retry delay after an error; doubles up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(800);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A watch that ends within this time with no event counts as a failure (backs off).</summary>
    public TimeSpan ShortWatchThreshold { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Also publish every change to <see cref="Informer{T}.Events"/> (an unbounded channel the caller must drain).</summary>
    public bool PublishEvents { get; init; }
}
