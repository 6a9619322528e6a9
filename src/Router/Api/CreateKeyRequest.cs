namespace ComfyOperator.Router.Api;

/// <summary>The body of <c>POST /v1/keys</c>.</summary>
internal sealed record CreateKeyRequest(string? Name, bool? Admin);
