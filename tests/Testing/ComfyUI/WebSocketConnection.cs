using System.Net.WebSockets;
using System.Threading.Channels;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>One client socket with its own outbound queue, so frames leave in the order they were queued.</summary>
internal sealed class WebSocketConnection(string sid, WebSocket socket)
{
    private readonly Channel<(ReadOnlyMemory<byte> Data, bool Text)> _outbound =
        Channel.CreateUnbounded<(ReadOnlyMemory<byte>, bool)>(new UnboundedChannelOptions { SingleReader = true });

    public string Sid { get; } = sid;

    public WebSocket Socket { get; } = socket;

    /// <summary>Set when the client's first frame announced <c>supports_preview_metadata</c>.</summary>
    public bool SupportsPreviewMetadata { get; set; }

    public void Enqueue(ReadOnlyMemory<byte> data, bool text) => _outbound.Writer.TryWrite((data, text));

    public void Complete() => _outbound.Writer.TryComplete();

    public void Abort()
    {
        _outbound.Writer.TryComplete();
        Socket.Abort();
    }

    public async Task PumpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (data, text) in _outbound.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await Socket.SendAsync(data, text ? WebSocketMessageType.Text : WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (WebSocketException)
        {
            // The peer went away; the receive loop cleans up.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
