namespace ComfyOperator.Router.Nodes;

/// <summary>
/// The workers added through the API, on the router database, so they survive a restart. Keyed by
/// URL. Every method is safe to call concurrently; database failures throw <see cref="Storage.StorageException"/>.
/// </summary>
internal interface INodeStore
{
    /// <summary>Every stored node, oldest first.</summary>
    Task<IReadOnlyList<StoredNode>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Stores a new node; false (nothing changed) when one with the same URL is stored already.</summary>
    Task<bool> AddAsync(StoredNode node, CancellationToken cancellationToken);

    /// <summary>Writes the cordoned and draining flags of a stored node; false when there is none with its URL.</summary>
    Task<bool> UpdateAsync(StoredNode node, CancellationToken cancellationToken);

    /// <summary>Deletes the node; false when there was none.</summary>
    Task<bool> RemoveAsync(Uri url, CancellationToken cancellationToken);
}
