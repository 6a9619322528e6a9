namespace ComfyOperator.Router.Keys;

/// <summary>
/// API keys created through the API, on the router database. Every method is safe to call
/// concurrently; database failures throw <see cref="Storage.StorageException"/>.
/// </summary>
internal interface IApiKeyStore
{
    /// <summary>Stores a new key; false (nothing changed) when its id or hash is taken.</summary>
    Task<bool> CreateAsync(StoredApiKey key, CancellationToken cancellationToken);

    /// <summary>The key with this SHA-256 (hex), revoked or not; null when there is none.</summary>
    Task<StoredApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Every key, revoked ones included, oldest first.</summary>
    Task<IReadOnlyList<StoredApiKey>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Marks the key revoked at <paramref name="at"/>; false when there is no such key or it was revoked already.</summary>
    Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);
}
