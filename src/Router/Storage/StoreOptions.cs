namespace ComfyOperator.Router.Storage;

/// <summary>Which database the router keeps its runs in, bound from <c>Router:Store</c>.</summary>
internal sealed class StoreOptions
{
    public const string SectionName = "Router:Store";

    /// <summary><see cref="StoreKinds.Sqlite"/> (a file, one router) or <see cref="StoreKinds.Postgres"/> (a server, several replicas).</summary>
    public string Kind { get; set; } = StoreKinds.Sqlite;

    /// <summary>The Npgsql connection string with <see cref="StoreKinds.Postgres"/>; a secret (it may hold a password), never logged.</summary>
    public string? ConnectionString { get; set; }
}
