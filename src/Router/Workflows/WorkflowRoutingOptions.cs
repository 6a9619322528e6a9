namespace ComfyOperator.Router.Workflows;

/// <summary>
/// Router settings for workflows-as-APIs and scheduling, bound from the same <c>Router</c> section as
/// <c>RouterOptions</c> (so <c>COMFY_ROUTER__WORKFLOWS_DIRECTORY</c>-style names work the same way).
/// </summary>
internal sealed class WorkflowRoutingOptions
{
    public const string SectionName = Configuration.RouterOptions.SectionName;

    /// <summary>A directory of WorkflowDeployment YAML/JSON files (the same a user would kubectl apply), reloaded on change.</summary>
    public string? WorkflowsDirectory { get; set; }

    /// <summary>Serve the built-in presets sd15, sdxl and flux as workflows.</summary>
    public bool Presets { get; set; } = true;

    /// <summary>Read workers (ComfyNodes) and workflows (WorkflowDeployments) from the Kubernetes API.</summary>
    public KubernetesSourceOptions Kubernetes { get; set; } = new();

    /// <summary>Runs one API key (or Basic user) may have waiting; 0 = no per-key limit.</summary>
    public int MaxPendingPerKey { get; set; }

    /// <summary>Fair-share weights by key id (<c>key-</c> + first 8 hex of SHA-256 of the key, or <c>user-NAME</c>); default 1.</summary>
    public Dictionary<string, int> KeyWeights { get; } = new(StringComparer.Ordinal);

    /// <summary>ModelAffinity: what loading another checkpoint costs, in queued runs (0 = ignore, 1 = as much as waiting for one run).</summary>
    public double AffinityLoadCost { get; set; } = 1.0;

    /// <summary>
    /// How often each worker's model lists are read again. They are also read on connect, after a
    /// restart, when a node's models change, when a run needs a model nobody has and before a run is
    /// refused for missing models, so this periodic read only catches files copied in by hand; at a
    /// thousand workers each minute of it cost five GETs per worker.
    /// </summary>
    public TimeSpan ModelRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Default for workflows without the queue-when-unavailable annotation (presets, plain files).</summary>
    public bool QueueWhenUnavailable { get; set; }
}
