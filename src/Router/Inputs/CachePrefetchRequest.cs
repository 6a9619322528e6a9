namespace ComfyOperator.Router.Inputs;

/// <summary>Body of <c>POST /v1/cache/prefetch</c>.</summary>
internal sealed record CachePrefetchRequest(string? Url, string? Kind, string? Sha256);
