using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>A raw ClientWebSocket that records every frame; tests wait on conditions with deadlines.</summary>
internal sealed class WsProbe : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<Frame> _frames = [];
    private readonly SemaphoreSlim _changed = new(0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _reader;

    public sealed record Frame(string? Type, JsonObject? Data, byte[]? Binary)
    {
        public string? Node => Data?["node"]?.GetValue<string>();

        public override string ToString() => Type is null ? $"binary[{Binary!.Length}]" : $"{Type}:{Data?.ToJsonString()}";
    }

    public string ClientId { get; }

    public bool Closed { get; private set; }

    private WsProbe(string clientId) => ClientId = clientId;

    public static async Task<WsProbe> ConnectAsync(Uri baseAddress, string? clientId = null, string path = "ws", JsonObject? hello = null)
    {
        clientId ??= "test-" + Guid.NewGuid().ToString("N")[..8];
        var probe = new WsProbe(clientId);
        var uri = new Uri($"ws://{baseAddress.Authority}/{path}?clientId={clientId}");
        await probe._socket.ConnectAsync(uri, CancellationToken.None);
        if (hello is not null)
        {
            await probe._socket.SendAsync(Encoding.UTF8.GetBytes(hello.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        probe._reader = Task.Run(probe.ReadLoopAsync);
        return probe;
    }

    public List<Frame> Frames
    {
        get
        {
            lock (_frames)
            {
                return [.. _frames];
            }
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[1 << 16];
        try
        {
            while (true)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, _stop.Token);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                Frame frame;
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    var json = JsonNode.Parse(message.ToArray())!.AsObject();
                    frame = new Frame(json["type"]!.GetValue<string>(), json["data"] as JsonObject, null);
                }
                else
                {
                    frame = new Frame(null, null, message.ToArray());
                }

                lock (_frames)
                {
                    _frames.Add(frame);
                }

                _changed.Release();
            }
        }
        catch (WebSocketException)
        {
        }
        catch (OperationCanceledException)
        {
        }

        Closed = true;
        _changed.Release();
    }

    /// <summary>Waits until the simulator has dropped every client id (a closed socket's cleanup has run).</summary>
    public static async Task WaitForNoClientsAsync(ComfyUiSimulator sim)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (sim.ConnectedClients != 0 && DateTime.UtcNow < deadline)
        {
            // Polling interval of the condition check.
            await Task.Delay(10);
        }

        Assert.Equal(0, sim.ConnectedClients);
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the frames so far, or fails after the deadline.</summary>
    public async Task<List<Frame>> WaitAsync(Func<List<Frame>, bool> condition, string what, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var frames = Frames;
            if (condition(frames))
            {
                return frames;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || (Closed && !condition(Frames)))
            {
                throw new TimeoutException($"waiting for {what}; got: {string.Join("\n", frames)}");
            }

            await _changed.WaitAsync(left);
        }
    }

    /// <summary>Waits for the end-of-prompt marker (<c>executing</c> with node null) of <paramref name="promptId"/>.</summary>
    public Task<List<Frame>> WaitForDoneAsync(string promptId, double seconds = 15) =>
        WaitAsync(f => f.Any(x => IsDone(x, promptId)), $"executing null for {promptId}", seconds);

    public static bool IsDone(Frame frame, string promptId) =>
        frame.Type == "executing" && frame.Data!.ContainsKey("node") && frame.Data["node"] is null
        && frame.Data["prompt_id"]?.GetValue<string>() == promptId;

    public Task CloseAsync() => _socket.State == WebSocketState.Open
        ? _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None)
        : Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        await _stop.CancelAsync();
        if (_reader is not null)
        {
            await _reader;
        }

        _socket.Dispose();
        _stop.Dispose();
        _changed.Dispose();
    }
}
