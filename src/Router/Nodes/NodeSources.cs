namespace ComfyOperator.Router.Nodes;

/// <summary>Where a worker came from, as <see cref="NodeEndpoint.Source"/> and <c>GET /v1/nodes</c> show it.</summary>
internal static class NodeSources
{
    /// <summary><c>Router:Nodes</c> / <c>COMFY_ROUTER__NODES</c>.</summary>
    public const string Config = "config";

    /// <summary>The servers file.</summary>
    public const string File = "file";

    /// <summary>A ComfyNode in the cluster.</summary>
    public const string Kubernetes = "kubernetes";

    /// <summary><c>POST /v1/nodes</c>, kept in the router database.</summary>
    public const string Api = "api";
}
