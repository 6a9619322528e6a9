namespace ComfyOperator.Router.Keys;

/// <summary>An API key created through <c>POST /v1/keys</c>; the key itself is never stored, only its SHA-256.</summary>
/// <param name="Id"><c>key-</c> + the first 8 hex digits of the key's SHA-256 (the id runs are owned by).</param>
/// <param name="Name">What the creator called it.</param>
/// <param name="Hash">The key's SHA-256, lower-case hex.</param>
/// <param name="Admin">May manage workers and keys.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; null while it is usable.</param>
internal sealed record StoredApiKey(string Id, string Name, string Hash, bool Admin, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
