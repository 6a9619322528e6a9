namespace ComfyOperator.Router.Storage;

/// <summary>
/// The database the router's stores share (runs, webhook deliveries, abandoned prompts). Opening it
/// applies the numbered schema migrations it has not applied yet, each once and in its own
/// transaction, and records them in <c>schema_migrations</c>.
/// </summary>
internal interface IRouterDatabase
{
    /// <summary>Opens the database and migrates it to the current schema; later calls return at once.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>True when the database is open and answers a trivial query.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}
