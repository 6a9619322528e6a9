namespace ComfyOperator.Router.Api;

/// <summary>The body of <c>PATCH /v1/nodes/{id}</c>.</summary>
internal sealed record PatchNodeRequest(bool? Cordoned);
