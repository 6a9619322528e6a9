using ComfyOperator.Router.Storage;
using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// Opens the router database (applying its migrations), waits to be the active replica (at once unless
/// another router is active on the same PostgreSQL database) and reloads unfinished runs before the
/// server takes requests.
/// </summary>
internal sealed class RunStoreInitializer(IRouterDatabase database, IActiveReplicaLease lease, RunService runs, RunRecovery recovery) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await database.OpenAsync(cancellationToken);
        await lease.AcquireAsync(cancellationToken);
        recovery.OnWorkers = await runs.RecoverAsync(cancellationToken);
    }

    /// <summary>Stopped after the dispatcher (started before it): the progress and previews not yet written are written.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => runs.FlushAsync(cancellationToken);
}
