using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// One ComfyUI client's WebSocket: frames go out in order through a bounded buffer (a client that
/// reads too slowly loses its oldest progress frames, never the router's time); what the client
/// sends is read only for its <c>feature_flags</c>.
/// </summary>
internal sealed class ComfyClientConnection(string clientId, string? owner, WebSocket socket)
{
    private const int MaxClientMessageBytes = 64 * 1024;

    private readonly Channel<ComfyFrame> _frames = Channel.CreateBounded<ComfyFrame>(new BoundedChannelOptions(1024)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    public string ClientId => clientId;

    /// <summary>Who opened the socket: it gets the prompts this caller submitted under its client id, nobody else's.</summary>
    public string? Owner => owner;

    /// <summary>The socket's key among all clients: owner and client id, so one caller cannot listen under another's id.</summary>
    public string Key => KeyOf(owner, clientId);

    public static string KeyOf(string? owner, string clientId) => (owner ?? "") + "\u001f" + clientId;

    /// <summary>The client announced <c>supports_preview_metadata</c>: previews go out as type 4 frames.</summary>
    public bool PreviewMetadata { get; private set; }

    public void Send(ComfyFrame frame) => _frames.Writer.TryWrite(frame);

    /// <summary>Sends and receives until the client closes or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(JsonObject serverFeatures, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sending = SendLoopAsync(stop.Token);
        try
        {
            await ReceiveLoopAsync(serverFeatures, stop.Token);
        }
        finally
        {
            _frames.Writer.TryComplete();
            await stop.CancelAsync();
            await sending.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ReceiveLoopAsync(JsonObject serverFeatures, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, cancellationToken);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                return;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await CloseQuietlyAsync();
                return;
            }

            if (message.Length + result.Count > MaxClientMessageBytes)
            {
                message.SetLength(0);
                continue;
            }

            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }

            if (result.MessageType == WebSocketMessageType.Text)
            {
                OnClientMessage(message.ToArray(), serverFeatures);
            }

            message.SetLength(0);
        }
    }

    /// <summary>ComfyUI keeps a client's <c>feature_flags</c> and answers with its own; anything else is ignored.</summary>
    private void OnClientMessage(byte[] text, JsonObject serverFeatures)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return;
        }

        if (root is JsonObject { } obj && obj["type"]?.GetValueKind() == JsonValueKind.String && obj["type"]!.GetValue<string>() == "feature_flags")
        {
            PreviewMetadata = obj["data"]?["supports_preview_metadata"]?.GetValueKind() == JsonValueKind.True;
            Send(ComfyMessages.Text("feature_flags", (JsonObject)serverFeatures.DeepClone()));
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in _frames.Reader.ReadAllAsync(cancellationToken))
            {
                await socket.SendAsync(frame.Bytes, frame.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone; its prompts go on and their results stay in /history.
        }
    }

    private async Task CloseQuietlyAsync()
    {
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }
}
