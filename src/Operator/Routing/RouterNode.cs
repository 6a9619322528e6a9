namespace ComfyOperator.Operator.Routing;

/// <summary>
/// One worker as the router's <c>GET /v1/nodes</c> shows it, the fields the operator reads:
/// <paramref name="Resource"/> is the ComfyNode (namespace/name) of a worker from the cluster,
/// <paramref name="Drained"/> says it is cordoned and has been idle since the router saw the cordon.
/// </summary>
internal sealed record RouterNode(string? Resource, bool Cordoned, bool Drained, int Assigned);
