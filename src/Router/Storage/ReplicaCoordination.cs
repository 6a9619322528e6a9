using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Storage;

/// <summary>
/// With active/active replicas (<see cref="StoreOptions.IsActiveActive"/>), runs the worker leases, the
/// feed of the other replicas' writes and the notifier of this one's for the router's life; with one router, nothing (they are never created).
/// At start it says which local directories every replica must share: the router cannot tell whether they are.
/// </summary>
internal sealed partial class ReplicaCoordination(
    IServiceProvider services,
    IOptions<StoreOptions> options,
    IOptions<RouterOptions> router,
    IOptions<OutputStoreOptions> outputs,
    IOptions<InputCacheOptions> inputs,
    ILogger<ReplicaCoordination> logger) : IHostedService
{
    private readonly List<IHostedService> _started = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.IsActiveActive)
        {
            return;
        }

        if (outputs.Value.IsLocal)
        {
            LogLocalOutputsShared(router.Value.ResolvedOutputDirectory);
        }

        LogInputCacheShared(inputs.Value.CacheDirectory);
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

    [LoggerMessage(EventId = EventIds.ReplicaCoordinationLocalOutputs, Level = LogLevel.Warning, Message = "Active/active replicas with the local output store: every replica must mount the same {OutputDirectory}, or outputs written by one replica are not served by the others (or use the S3 output store)")]
    private partial void LogLocalOutputsShared(string outputDirectory);

    [LoggerMessage(EventId = EventIds.ReplicaCoordinationInputCache, Level = LogLevel.Information, Message = "Active/active replicas: runs with inputs need the input cache {CacheDirectory} shared by every replica (a run may be dispatched by a replica other than the one that downloaded them)")]
    private partial void LogInputCacheShared(string cacheDirectory);
}
