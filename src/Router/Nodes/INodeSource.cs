namespace ComfyOperator.Router.Nodes;

/// <summary>Tells the router which ComfyUI workers exist. Static list today; a Kubernetes watch later.</summary>
internal interface INodeSource
{
    IReadOnlyList<NodeEndpoint> Current { get; }

    /// <summary>Raised after <see cref="Current"/> changed.</summary>
    event EventHandler? Changed;
}
