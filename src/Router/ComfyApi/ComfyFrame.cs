namespace ComfyOperator.Router.ComfyApi;

/// <summary>One WebSocket frame for a ComfyUI client: a JSON text message or a binary one (big-endian event type first).</summary>
internal sealed record ComfyFrame(bool Binary, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>Whether this frame ends a prompt (<c>executing</c> with <c>node: null</c>); kept when a slow client's frames are dropped.</summary>
    public bool Final { get; init; }
}
