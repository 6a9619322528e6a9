namespace ComfyOperator.Router.Storage;

/// <summary>Which database the router keeps its runs in, bound from <c>Router:Store</c>.</summary>
internal sealed class StoreOptions
{
    public const string SectionName = "Router:Store";

    /// <summary><see cref="StoreKinds.Sqlite"/> (a file, one router) or <see cref="StoreKinds.Postgres"/> (a server, several replicas).</summary>
    public string Kind { get; set; } = StoreKinds.Sqlite;

    /// <summary>The Npgsql connection string with <see cref="StoreKinds.Postgres"/>; a secret (it may hold a password), never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How several replicas on one PostgreSQL database share the work: <see cref="ReplicaModes.Standby"/> (one
    /// active, the others wait for its lease; the default) or <see cref="ReplicaModes.Active"/> (every replica
    /// serves and dispatches). SQLite has one router, whatever this says.
    /// </summary>
    public string ReplicaMode { get; set; } = ReplicaModes.Standby;

    /// <summary>Several replicas serve at once: worker leases, queue claims and run events go through the database.</summary>
    public bool IsActiveActive =>
        string.Equals(Kind, StoreKinds.Postgres, StringComparison.OrdinalIgnoreCase)
        && string.Equals(ReplicaMode, ReplicaModes.Active, StringComparison.OrdinalIgnoreCase);
}
