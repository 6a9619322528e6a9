using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Observability.Hosting;

/// <summary>
/// The lifetime of a web host that a process starts and stops itself (a metrics listener, the
/// operator's health and metrics port). The default console lifetime would register for SIGTERM and
/// Ctrl-C, cancel the signal and stop only that host, so the process would go on running after
/// Kubernetes asked it to stop. This one listens to no signal.
/// </summary>
public sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
