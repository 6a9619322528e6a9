namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Fault injection for a running <see cref="KubeApiEmulator"/>.</summary>
public sealed class KubeApiFaults
{
    private readonly Lock _gate = new();
    private readonly Action _dropWatches;
    private int _failCount;
    private int _failStatus;

    internal KubeApiFaults(Action dropWatches) => _dropWatches = dropWatches;

    /// <summary>Added before every request is served (discovery included).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Seconds announced in <c>Retry-After</c> for injected 429 answers.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Aborts every open watch connection, as a network drop would.</summary>
    public void DropWatches() => _dropWatches();

    /// <summary>The next <paramref name="count"/> requests fail with 500 or 429 (plus Retry-After).</summary>
    public void FailNext(int count, int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (statusCode is not (500 or 429 or 503))
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "use 500, 503 or 429");
        }

        lock (_gate)
        {
            _failCount = count;
            _failStatus = statusCode;
        }
    }

    /// <summary>Consumes one injected failure, if any is pending.</summary>
    internal int? TakeFailure()
    {
        lock (_gate)
        {
            if (_failCount <= 0)
            {
                return null;
            }

            _failCount--;
            return _failStatus;
        }
    }
}
