namespace ComfyOperator.Router.Nodes;

/// <summary>A ComfyUI worker address and where it came from (<c>config</c>, <c>file</c>, <c>kubernetes</c>).</summary>
internal sealed record NodeEndpoint(Uri BaseAddress, string Source)
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Labels workflows select on (a ComfyNode's metadata.labels plus spec.labels); empty for static nodes.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = NoLabels;

    /// <summary>The node's own queue allowance (ComfyNode spec.maxQueue); null = the router's MaxQueuePerWorker.</summary>
    public int? MaxQueue { get; init; }

    /// <summary>A ComfyNode the operator runs a pod for (no <c>spec.url</c>); such workers run our image and its cleanup route.</summary>
    public bool Managed { get; init; }

    /// <summary>namespace/name of the ComfyNode, for the Kubernetes source.</summary>
    public string? ResourceName { get; init; }

    /// <summary>Changes when the node's model set may have changed (e.g. its spec.models or ModelsReady condition).</summary>
    public string? ModelsVersion { get; init; }

    /// <summary>Cordoned by its source: a ComfyNode with <c>spec.unschedulable</c> or being deleted. It takes nothing new and finishes what it has.</summary>
    public bool Cordoned { get; init; }
}
