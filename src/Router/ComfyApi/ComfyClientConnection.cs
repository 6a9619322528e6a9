using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// One ComfyUI client's WebSocket: frames go out in order through a bounded buffer (a client that
/// reads too slowly loses its oldest frames, never the router's time); what the client
/// sends is read only for its <c>feature_flags</c>.
/// <para>
/// A frame is written to the socket by the thread that sends it when no other frame is on its way (the
/// socket's write then only copies it into the connection's output buffer): no reader task to wake per
/// frame. While a write waits for a slow client, frames queue behind it and the write's continuation
/// sends them.
/// </para>
/// </summary>
internal sealed class ComfyClientConnection(string clientId, string? owner, WebSocket socket)
{
    private const int MaxClientMessageBytes = 64 * 1024;

    /// <summary>Frames held while a write waits for the client; beyond this the oldest goes.</summary>
    internal const int BufferedFrames = 1024;

    private readonly Lock _gate = new();
    private readonly Queue<ComfyFrame> _queued = new();

    /// <summary>A frame is being written (by a sender or the continuation of a write that waited); only that one writes.</summary>
    private bool _writing;
    private bool _closed;
    private Task _waitingWrite = Task.CompletedTask;
    private CancellationToken _stopping;

    public string ClientId => clientId;

    /// <summary>Who opened the socket: it gets the prompts this caller submitted under its client id, nobody else's.</summary>
    public string? Owner => owner;

    /// <summary>The socket's key among all clients: owner and client id, so one caller cannot listen under another's id.</summary>
    public string Key => KeyOf(owner, clientId);

    public static string KeyOf(string? owner, string clientId) => (owner ?? "") + "\u001f" + clientId;

    /// <summary>The client announced <c>supports_preview_metadata</c>: previews go out as type 4 frames.</summary>
    public bool PreviewMetadata { get; private set; }

    /// <summary>Sends <paramref name="frame"/> after those sent before it (quick: never waits for the client).</summary>
    public void Send(ComfyFrame frame)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            if (_writing)
            {
                if (_queued.Count == BufferedFrames)
                {
                    _queued.Dequeue();
                }

                _queued.Enqueue(frame);
                return;
            }

            _writing = true;
        }

        Write(frame);
    }

    /// <summary>Sends and receives until the client closes or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(JsonObject serverFeatures, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _stopping = stop.Token;
        try
        {
            await ReceiveLoopAsync(serverFeatures, stop.Token);
        }
        finally
        {
            Task waiting;
            lock (_gate)
            {
                _closed = true;
                _queued.Clear();
                waiting = _waitingWrite;
            }

            await stop.CancelAsync();
            await waiting.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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

    /// <summary>Writes <paramref name="frame"/> and then the frames queued meanwhile, on this thread while the socket takes them at once.</summary>
    private void Write(ComfyFrame frame)
    {
        while (true)
        {
            ValueTask write;
            try
            {
                write = socket.SendAsync(frame.Bytes, frame.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, WebSocketMessageFlags.EndOfMessage, _stopping);
            }
            catch (Exception ex) when (IsGone(ex))
            {
                Close();
                return;
            }

            if (!write.IsCompleted)
            {
                var rest = WriteRestAsync(write);
                lock (_gate)
                {
                    _waitingWrite = rest;
                }

                return;
            }

            if (!Completed(write) || Next() is not { } next)
            {
                return;
            }

            frame = next;
        }
    }

    private async Task WriteRestAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        catch (Exception ex) when (IsGone(ex))
        {
            Close();
            return;
        }

        if (Next() is { } next)
        {
            Write(next);
        }
    }

    /// <summary>Whether the finished write succeeded (if not, the connection is closed).</summary>
    private bool Completed(ValueTask write)
    {
        try
        {
            write.GetAwaiter().GetResult();
            return true;
        }
        catch (Exception ex) when (IsGone(ex))
        {
            Close();
            return false;
        }
    }

    /// <summary>The next queued frame, or null (and no write in progress any more).</summary>
    private ComfyFrame? Next()
    {
        lock (_gate)
        {
            if (!_closed && _queued.TryDequeue(out var next))
            {
                return next;
            }

            _writing = false;
            return null;
        }
    }

    /// <summary>The client is gone; its prompts go on and their results stay in /history.</summary>
    private void Close()
    {
        lock (_gate)
        {
            _closed = true;
            _writing = false;
            _queued.Clear();
        }
    }

    private static bool IsGone(Exception ex) => ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException;

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
