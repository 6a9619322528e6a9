namespace ComfyOperator.Comfy.Sessions;

/// <summary>Where a <see cref="ComfySession"/>'s WebSocket is. Anything but Connected means events may be missed.</summary>
public enum ComfySessionState
{
    /// <summary>Not started.</summary>
    Created,

    /// <summary>First connection attempt in progress.</summary>
    Connecting,

    /// <summary>The socket is open and events flow.</summary>
    Connected,

    /// <summary>The socket dropped or could not be opened; retrying with backoff (each attempt with a fresh client id).</summary>
    Reconnecting,

    /// <summary>Disposed.</summary>
    Stopped,
}
