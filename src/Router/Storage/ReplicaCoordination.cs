using ComfyOperator.Router.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Storage;

/// <summary>
/// With active/active replicas (<see cref="StoreOptions.IsActiveActive"/>), runs the worker leases, the
/// feed of the other replicas' writes and the notifier of this one's for the router's life; with one router, nothing (they are never created).
/// </summary>
internal sealed class ReplicaCoordination(IServiceProvider services, IOptions<StoreOptions> options) : IHostedService
{
    private readonly List<IHostedService> _started = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.IsActiveActive)
        {
            return;
        }

        foreach (var service in new IHostedService[] { services.GetRequiredService<PostgresReplicaNotifier>(), services.GetRequiredService<PostgresReplicaFeed>(), services.GetRequiredService<PostgresWorkerLeases>() })
        {
            await service.StartAsync(cancellationToken);
            _started.Add(service);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Leases first: the other replicas take this one's workers while the feed and the notifier still run.
        foreach (var service in Enumerable.Reverse(_started))
        {
            await service.StopAsync(cancellationToken);
        }
    }
}
