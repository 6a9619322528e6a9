namespace ComfyOperator.Router.Storage;

/// <summary>
/// The right to be the router that recovers runs, drives the workers and dispatches: one router at a
/// time per database. With SQLite the file is one router's, so it is had at once; with PostgreSQL
/// several replicas may start on one database and all but one stand by until the active one is gone.
/// </summary>
internal interface IActiveReplicaLease
{
    /// <summary>Returns once this router holds the lease (waits while another router holds it).</summary>
    Task AcquireAsync(CancellationToken cancellationToken);
}
