using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Router.Runs;

/// <summary>Opens the run store and reloads unfinished runs before the server takes requests.</summary>
internal sealed class RunStoreInitializer(IRunStore store, RunService runs, RunRecovery recovery) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        recovery.OnWorkers = await runs.RecoverAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
