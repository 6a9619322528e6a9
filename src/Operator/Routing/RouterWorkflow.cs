namespace ComfyOperator.Operator.Routing;

/// <summary>The part of the router's <c>GET /v1/workflows/{name}</c> the operator reads.</summary>
internal sealed record RouterWorkflow(string Name, RouterDemand? Demand);
