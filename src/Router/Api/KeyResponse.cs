namespace ComfyOperator.Router.Api;

/// <summary>One API key as <c>/v1/keys</c> lists it: never the key, only its id.</summary>
/// <param name="Source"><c>api</c> (created through <c>/v1/keys</c>), <c>config</c> or <c>file</c> (read-only here).</param>
internal sealed record KeyResponse(string Id, string Source, string? Name, bool Admin, DateTimeOffset? CreatedAt, DateTimeOffset? RevokedAt, bool ReadOnly);
