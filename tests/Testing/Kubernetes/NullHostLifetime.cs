using Microsoft.Extensions.Hosting;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// Keeps the emulator's host from taking over Ctrl-C/SIGTERM: the test process or the
/// <c>kube-api</c> verb owns the lifetime and disposes the emulator itself.
/// </summary>
internal sealed class NullHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
