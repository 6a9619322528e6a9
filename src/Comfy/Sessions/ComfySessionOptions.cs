namespace ComfyOperator.Comfy.Sessions;

/// <summary>Knobs of a <see cref="ComfySession"/>.</summary>
public sealed record ComfySessionOptions
{
    /// <summary>Timeout of one WebSocket connect attempt.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First reconnect delay; doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>, with ±20% jitter.</summary>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often GET /history/{id} is polled for prompts whose events may have been lost.</summary>
    public TimeSpan HistoryPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// WebSocket ping interval and the time to wait for the pong: a worker whose socket is silently
    /// gone is noticed after about interval + timeout.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Announce <c>supports_preview_metadata</c> so previews arrive as type 4 frames naming their prompt (docs/comfyui-protocol.md §5.5).</summary>
    public bool SupportsPreviewMetadata { get; init; }

    /// <summary>
    /// How long a prompt waits for the server's reply to that hello before it is posted: the server
    /// picks the preview format per connection when it reads the hello, so a prompt posted earlier
    /// gets its first previews in the old format. Servers before 0.3.44 never reply; after one
    /// unanswered hello the session stops waiting.
    /// </summary>
    public TimeSpan FeatureFlagsReplyTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest message accepted; bigger ones drop the connection.</summary>
    public int MaxMessageBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Makes client ids; default 32 hex chars like the server's own (docs/comfyui-protocol.md §5.1). Called for every connection.</summary>
    public Func<string> ClientIdFactory { get; init; } = static () => Guid.NewGuid().ToString("N");

    /// <summary>Source of reconnect jitter in [0, 1).</summary>
    public Func<double> Jitter { get; init; } = static () => Random.Shared.NextDouble();
}
