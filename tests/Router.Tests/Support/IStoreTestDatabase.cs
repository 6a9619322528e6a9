namespace ComfyOperator.Router.Tests.Support;

/// <summary>
/// An empty router database owned by one test, for the store contract tests: each implementation
/// (SQLite, PostgreSQL) provides one. Every <see cref="OpenAsync"/> is a new process's view of the
/// same database (a restart); the session is disposed before the next one is opened.
/// </summary>
internal interface IStoreTestDatabase : IAsyncDisposable
{
    /// <summary>Opens the database (applying migrations) and the stores on it.</summary>
    Task<StoreSession> OpenAsync();
}
