namespace ComfyOperator.Router.Storage.Sqlite;

/// <summary>The SQLite file belongs to one router (the Helm chart refuses more than one replica with it): always held.</summary>
internal sealed class SqliteActiveReplicaLease : IActiveReplicaLease
{
    public Task AcquireAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
