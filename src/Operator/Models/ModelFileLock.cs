namespace ComfyOperator.Operator.Models;

/// <summary>A held <c>.lock</c> file: touched every heartbeat while held, deleted on dispose.</summary>
internal sealed class ModelFileLock : IAsyncDisposable
{
    private readonly string _path;
    private readonly FileStream _stream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _heartbeat;

    public ModelFileLock(string path, FileStream stream, TimeSpan heartbeat, TimeProvider time, bool waited)
    {
        _path = path;
        _stream = stream;
        Waited = waited;
        _heartbeat = BeatAsync(heartbeat, time, _stop.Token);
    }

    /// <summary>True when the lock was only had after waiting for another holder.</summary>
    public bool Waited { get; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _heartbeat;
        }
        catch (OperationCanceledException)
        {
            // Expected: the heartbeat loop ends by cancellation.
        }

        await _stream.DisposeAsync();
        File.Delete(_path);
        _stop.Dispose();
    }

    private async Task BeatAsync(TimeSpan period, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            File.SetLastWriteTimeUtc(_path, time.GetUtcNow().UtcDateTime);
        }
    }
}
