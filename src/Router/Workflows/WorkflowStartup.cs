using ComfyOperator.Router.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workflows;

/// <summary>Starts the workflow sources: the directory (when set) and the cluster (when enabled).</summary>
internal sealed class WorkflowStartup(IServiceProvider services, IOptions<WorkflowRoutingOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await services.GetRequiredService<WorkflowDirectorySource>().StartAsync(cancellationToken);
        if (options.Value.Kubernetes.Enabled)
        {
            await services.GetRequiredService<KubernetesNodeSource>().StartAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await services.GetRequiredService<WorkflowDirectorySource>().StopAsync(cancellationToken);
        if (options.Value.Kubernetes.Enabled)
        {
            await services.GetRequiredService<KubernetesNodeSource>().StopAsync(cancellationToken);
        }
    }
}
