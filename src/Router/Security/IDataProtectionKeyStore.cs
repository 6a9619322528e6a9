namespace ComfyOperator.Router.Security;

/// <summary>
/// The data-protection key ring (the keys that encrypt the web UI's session cookies) in the router's
/// database, so every replica and every restart reads the same keys without a shared volume. Keys are
/// only ever added; the key manager marks old ones expired or revoked by adding more elements.
/// </summary>
internal interface IDataProtectionKeyStore
{
    /// <summary>Every stored element (a key or a revocation) as XML text, in the order they were added.</summary>
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Stores an element under its unique name; a second element with a name already stored is ignored.</summary>
    Task AddAsync(string name, string xml, DateTimeOffset created, CancellationToken cancellationToken);
}
