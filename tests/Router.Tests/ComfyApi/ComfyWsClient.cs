using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>A ComfyUI script's WebSocket, as in ComfyUI's websockets_api_example.py: connect with a client id, read every frame.</summary>
public sealed class ComfyWsClient : IAsyncDisposable
{
    private readonly WebSocket _socket;
    private readonly bool _previewMetadata;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    private ComfyWsClient(string clientId, WebSocket socket, bool previewMetadata)
    {
        ClientId = clientId;
        _socket = socket;
        _previewMetadata = previewMetadata;
        _receiving = ReceiveAsync();
    }

    public string ClientId { get; }

    public ConcurrentQueue<ComfyWsMessage> Messages { get; } = new();

    /// <summary>Connects to the router's <c>/ws</c> (or <c>/api/ws</c>) with the test API key, optionally announcing preview metadata support.</summary>
    public static async Task<ComfyWsClient> ConnectAsync(RouterFactory router, string clientId, string prefix = "", bool previewMetadata = false, string apiKey = RouterFactory.ApiKey)
    {
        ArgumentNullException.ThrowIfNull(router);
        var ws = router.Server.CreateWebSocketClient();
        ws.ConfigureRequest = request => request.Headers.Authorization = "Bearer " + apiKey;
        var socket = await ws.ConnectAsync(new Uri(router.Server.BaseAddress, $"{prefix}/ws?clientId={clientId}".TrimStart('/')), CancellationToken.None);
        var client = new ComfyWsClient(clientId, socket, previewMetadata);
        if (previewMetadata)
        {
            await client.SendFeatureFlagsAsync();
        }

        return client;
    }

    /// <summary>
    /// Sends <c>feature_flags</c> and waits for the router's reply. The router's frames reach a socket in the order it
    /// sends them, so every frame it sent this client before has arrived by then.
    /// </summary>
    public async Task RoundTripAsync()
    {
        var replies = Messages.Count(m => m.Type == "feature_flags");
        await SendFeatureFlagsAsync();
        await Wait.UntilAsync(() => Messages.Count(m => m.Type == "feature_flags") > replies, TimeSpan.FromSeconds(30), $"the feature_flags reply on client {ClientId}");
    }

    private async Task SendFeatureFlagsAsync()
    {
        var flags = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "feature_flags", ["data"] = new JsonObject { ["supports_preview_metadata"] = _previewMetadata } }.ToJsonString());
        await _socket.SendAsync(flags, WebSocketMessageType.Text, true, CancellationToken.None);
    }

    /// <summary>Waits for a text message of <paramref name="type"/> that matches; returns it.</summary>
    public async Task<ComfyWsMessage> WaitForAsync(string type, Func<JsonObject, bool>? match = null, TimeSpan? timeout = null)
    {
        ComfyWsMessage? found = null;
        await Wait.UntilAsync(
            () => (found = Messages.FirstOrDefault(m => m.Type == type && m.Data is not null && (match?.Invoke(m.Data) ?? true))) is not null,
            timeout ?? TimeSpan.FromSeconds(60),
            $"'{type}' on client {ClientId}");
        return found!;
    }

    /// <summary>The end of a prompt: <c>executing</c> with <c>node: null</c> for <paramref name="promptId"/>.</summary>
    public Task<ComfyWsMessage> WaitForDoneAsync(string promptId, TimeSpan? timeout = null) =>
        WaitForAsync("executing", d => d["node"] is null && d["prompt_id"]?.GetValue<string>() == promptId, timeout);

    /// <summary>Every prompt id this client was sent, from text frames and type 4 previews.</summary>
    public IReadOnlySet<string> PromptIds() => Messages
        .Select(m => m.Data?["prompt_id"]?.GetValue<string>() ?? m.PreviewPromptId)
        .OfType<string>()
        .ToHashSet();

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var bytes = message.ToArray();
                message.SetLength(0);
                Messages.Enqueue(result.MessageType == WebSocketMessageType.Text
                    ? ComfyWsMessage.FromText(Encoding.UTF8.GetString(bytes))
                    : ComfyWsMessage.FromBinary(bytes));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                // Only the close frame: the receive loop is the one reader of this socket.
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The server went first.
            }
        }

        await _stop.CancelAsync();
        await _receiving;
        _socket.Dispose();
        _stop.Dispose();
    }
}

/// <summary>One frame: a text message (type and data) or a binary one (event type, payload).</summary>
public sealed record ComfyWsMessage(string? Type, JsonObject? Data, uint BinaryType, byte[]? Payload)
{
    /// <summary>For a type 4 preview: the prompt id in its metadata header.</summary>
    public string? PreviewPromptId { get; init; }

    public static ComfyWsMessage FromText(string text)
    {
        var root = JsonNode.Parse(text) as JsonObject;
        return new ComfyWsMessage(root?["type"]?.GetValue<string>(), root?["data"] as JsonObject, 0, null);
    }

    public static ComfyWsMessage FromBinary(byte[] frame)
    {
        var type = BinaryPrimitives.ReadUInt32BigEndian(frame);
        string? promptId = null;
        if (type == 4)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4));
            promptId = (JsonNode.Parse(frame.AsSpan(8, length)) as JsonObject)?["prompt_id"]?.GetValue<string>();
        }

        return new ComfyWsMessage(null, null, type, frame[4..]) { PreviewPromptId = promptId };
    }
}
