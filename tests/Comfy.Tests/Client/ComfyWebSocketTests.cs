using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using ComfyOperator.Comfy.Client;

namespace ComfyOperator.Comfy.Tests.Client;

public sealed class ComfyWebSocketTests
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConnectAsync_FrameSentWithTheUpgradeAnswer_IsReceivedFirst()
    {
        // ComfyUI sends its status the moment the socket opens: the frame may share a TCP segment with the 101.
        var frame = "{\"type\":\"status\"}"u8.ToArray();
        await using var server = await OneShotServer.StartAsync(key =>
            [.. Encoding.ASCII.GetBytes(SwitchingProtocols(Accept(key))), 0x81, (byte)frame.Length, .. frame]);

        using var socket = await ComfyWebSocket.ConnectAsync(server.Uri, KeepAlive, KeepAlive, CancellationToken.None);
        var buffer = new byte[64];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);

        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.True(result.EndOfMessage);
        Assert.Equal(frame, buffer[..result.Count]);
        var request = await server.Request.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("GET /ws?clientId=abc HTTP/1.1\r\n", request, StringComparison.Ordinal);
        Assert.Contains($"\r\nHost: 127.0.0.1:{server.Uri.Port}\r\n", request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_NotFound_ThrowsNotAWebSocket()
    {
        await using var server = await OneShotServer.StartAsync(_ => Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));

        var ex = await Assert.ThrowsAsync<WebSocketException>(() => ComfyWebSocket.ConnectAsync(server.Uri, KeepAlive, KeepAlive, CancellationToken.None));

        Assert.Equal(WebSocketError.NotAWebSocket, ex.WebSocketErrorCode);
        Assert.Contains("'404'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_WrongAccept_ThrowsHeaderError()
    {
        await using var server = await OneShotServer.StartAsync(_ => Encoding.ASCII.GetBytes(SwitchingProtocols(Accept("another key"))));

        var ex = await Assert.ThrowsAsync<WebSocketException>(() => ComfyWebSocket.ConnectAsync(server.Uri, KeepAlive, KeepAlive, CancellationToken.None));

        Assert.Equal(WebSocketError.HeaderError, ex.WebSocketErrorCode);
    }

    [Fact]
    public async Task ConnectAsync_EndlessHeaders_StopsAtTheLimit()
    {
        await using var server = await OneShotServer.StartAsync(_ => Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\n" + string.Concat(Enumerable.Repeat("X-Filler: 0123456789\r\n", 2000))));

        var ex = await Assert.ThrowsAsync<WebSocketException>(() => ComfyWebSocket.ConnectAsync(server.Uri, KeepAlive, KeepAlive, CancellationToken.None));

        Assert.Equal(WebSocketError.HeaderError, ex.WebSocketErrorCode);
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ThrowsWebSocketException()
    {
        int port;
        using (var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        }

        await Assert.ThrowsAsync<WebSocketException>(() => ComfyWebSocket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"), KeepAlive, KeepAlive, CancellationToken.None));
    }

    private static string SwitchingProtocols(string accept) =>
        $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n";

#pragma warning disable CA5350 // RFC 6455 defines the accept value with SHA-1.
    private static string Accept(string key) => Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350

    /// <summary>Accepts one connection, reads its upgrade request and writes the answer made from its key in one write.</summary>
    private sealed class OneShotServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly TaskCompletionSource<string> _request = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _serving;

        private OneShotServer(TcpListener listener, Func<string, byte[]> answer)
        {
            _listener = listener;
            Uri = new Uri($"ws://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/ws?clientId=abc");
            _serving = ServeAsync(answer);
        }

        public Uri Uri { get; }

        /// <summary>The upgrade request as the server read it.</summary>
        public Task<string> Request => _request.Task;

        public static Task<OneShotServer> StartAsync(Func<string, byte[]> answer)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return Task.FromResult(new OneShotServer(listener, answer));
        }

        private async Task ServeAsync(Func<string, byte[]> answer)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[1024];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer);
                Assert.NotEqual(0, read);
                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var text = request.ToString();
            _request.SetResult(text);
            var key = text.Split("\r\n").Single(l => l.StartsWith("Sec-WebSocket-Key: ", StringComparison.Ordinal))["Sec-WebSocket-Key: ".Length..];
            await stream.WriteAsync(answer(key));

            // Keeps the connection open until the client has read what it needs and closes it.
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await _serving;
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
            {
                // The client went away first, as a failed connect does.
            }
        }
    }
}
