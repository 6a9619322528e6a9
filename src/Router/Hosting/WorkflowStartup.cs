using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Hosting;

/// <summary>Starts the workflow sources: the directory (when set) and the cluster (when enabled).</summary>
internal sealed class WorkflowStartup(WorkflowDirectorySource directory, IServiceProvider services, IOptions<WorkflowRoutingOptions> options) : IHostedService
{
    private KubernetesNodeSource? _kubernetes;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await directory.StartAsync(cancellationToken);
        if (options.Value.Kubernetes.Enabled)
        {
            _kubernetes = services.GetRequiredService<KubernetesNodeSource>();
            await _kubernetes.StartAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await directory.StopAsync(cancellationToken);
        if (_kubernetes is not null)
        {
            await _kubernetes.StopAsync(cancellationToken);
        }
    }
}
