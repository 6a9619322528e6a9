namespace ComfyOperator.Router.Api;

/// <summary>The answer to <c>POST /v1/keys</c>: the only time the key itself is shown.</summary>
internal sealed record CreatedKeyResponse(string Id, string Name, bool Admin, DateTimeOffset CreatedAt, string Key);
