namespace ComfyOperator.Kubernetes.Client;

/// <summary>Query options of a WATCH.</summary>
public sealed record WatchOptions
{
    public string? LabelSelector { get; init; }

    public string? FieldSelector { get; init; }

    /// <summary>Resume after this version (no synthetic ADDED events); unset or "0" starts with ADDED for every object.</summary>
    public string? ResourceVersion { get; init; }

    public bool AllowWatchBookmarks { get; init; } = true;

    /// <summary>The server ends the stream cleanly after this many seconds.</summary>
    public int? TimeoutSeconds { get; init; }
}
