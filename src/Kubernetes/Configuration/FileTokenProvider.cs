namespace ComfyOperator.Kubernetes.Configuration;

/// <summary>
/// A token read from a file that the kubelet rotates (projected service-account tokens).
/// Re-read when the file's write time changes, at least every <see cref="RefreshInterval"/> (client-go
/// and the official C# client use one minute), and on demand after a 401.
/// </summary>
internal sealed class FileTokenProvider(string path, TimeProvider timeProvider) : ITokenProvider
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private string? _token;
    private DateTime _fileWriteTime;
    private DateTimeOffset _readAt;

    public string Path => path;

    public async ValueTask<string?> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        var writeTime = File.GetLastWriteTimeUtc(path);
        var now = timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!forceRefresh && _token is not null && writeTime == _fileWriteTime && now - _readAt < RefreshInterval)
            {
                return _token;
            }
        }

        var token = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
        lock (_gate)
        {
            _token = token;
            _fileWriteTime = writeTime;
            _readAt = now;
        }

        return token;
    }
}
