namespace ComfyOperator.Router.Storage;

/// <summary>The names <c>Router:Store:Kind</c> accepts; anything else stops the router at start.</summary>
internal static class StoreKinds
{
    public const string Sqlite = "sqlite";

    public const string Postgres = "postgres";

    public static readonly IReadOnlyList<string> All = [Sqlite, Postgres];
}
