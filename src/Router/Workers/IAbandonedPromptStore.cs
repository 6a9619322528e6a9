namespace ComfyOperator.Router.Workers;

/// <summary>
/// The abandoned prompts still to be removed from their workers, on the router database, so a restart
/// keeps removing them. Keyed by prompt id (adding one again replaces it). Database failures throw
/// <see cref="Storage.StorageException"/>.
/// </summary>
internal interface IAbandonedPromptStore
{
    Task AddAsync(AbandonedPrompt prompt, CancellationToken cancellationToken);

    /// <summary>Removes these prompt ids in one transaction (ids not stored are ignored).</summary>
    Task RemoveAsync(IReadOnlyCollection<string> promptIds, CancellationToken cancellationToken);

    /// <summary>Everything stored, soonest give-up first.</summary>
    Task<IReadOnlyList<AbandonedPrompt>> ListAsync(CancellationToken cancellationToken);
}
