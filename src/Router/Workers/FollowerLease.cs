using ComfyOperator.Comfy.Sessions;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// A share of a receive-only session opened under an earlier client id (<see cref="WorkerConnections.Follow"/>).
/// Dispose when the prompt is no longer followed; the socket closes when the last share is gone.
/// </summary>
internal sealed class FollowerLease(ComfySession session, Func<ValueTask> release) : IAsyncDisposable
{
    private int _released;

    public ComfySession Session { get; } = session;

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _released, 1) == 0 ? release() : ValueTask.CompletedTask;
}
