using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Storage;

/// <summary>
/// Hands each run event this router writes to <see cref="PostgresReplicaNotifier"/> when replicas are
/// active/active; with one router there is nobody to tell, and nothing is created.
/// </summary>
internal sealed class ReplicaEventRelay(IServiceProvider services, IOptions<StoreOptions> options) : IRunEventObserver
{
    private readonly PostgresReplicaNotifier? _notifier = options.Value.IsActiveActive ? services.GetRequiredService<PostgresReplicaNotifier>() : null;

    public void OnEvent(RunRecord run, RunEvent runEvent) => _notifier?.Enqueue(run, runEvent);
}
