namespace ComfyOperator.Router.Storage;

/// <summary>
/// A lease that is always held: the SQLite file belongs to one router (the Helm chart refuses more than one
/// replica with it), and with active/active replicas every replica is active.
/// </summary>
internal sealed class HeldActiveReplicaLease : IActiveReplicaLease
{
    public Task AcquireAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
