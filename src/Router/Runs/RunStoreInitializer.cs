using ComfyOperator.Router.Storage;
using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Router.Runs;

/// <summary>Opens the router database (applying its migrations) and reloads unfinished runs before the server takes requests.</summary>
internal sealed class RunStoreInitializer(IRouterDatabase database, RunService runs, RunRecovery recovery) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await database.OpenAsync(cancellationToken);
        recovery.OnWorkers = await runs.RecoverAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
