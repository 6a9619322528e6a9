namespace ComfyOperator.Router.Api;

/// <summary>Body of <c>/healthz</c> and <c>/readyz</c>.</summary>
internal sealed record HealthResponse(string Status, IReadOnlyList<string> Problems, int Nodes, int HealthyNodes);
