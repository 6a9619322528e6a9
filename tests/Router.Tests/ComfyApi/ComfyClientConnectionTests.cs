using System.Net.WebSockets;
using System.Text;
using ComfyOperator.Router.ComfyApi;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>A ComfyUI client's socket: frames in order, written by the sender when the socket takes them at once, and a client that reads nothing never holds up a sender.</summary>
public sealed class ComfyClientConnectionTests
{
    private static ComfyFrame Frame(int n) => new(false, Encoding.UTF8.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Send_SocketTakesFramesAtOnce_WrittenInOrderBeforeSendReturns()
    {
        var socket = new RecordingSocket();
        var connection = new ComfyClientConnection("c", null, socket);

        for (var i = 1; i <= 3; i++)
        {
            connection.Send(Frame(i));
            Assert.Equal(i, socket.Written.Count);
        }

        Assert.Equal(["1", "2", "3"], socket.Written);
    }

    [Fact]
    public async Task Send_ClientReadsNothing_NeverWaitsAndTheNewestFramesFollowInOrder()
    {
        var socket = new RecordingSocket { Stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var connection = new ComfyClientConnection("c", null, socket);
        var sent = 1 + ComfyClientConnection.BufferedFrames + 10;

        for (var i = 1; i <= sent; i++)
        {
            connection.Send(Frame(i));
        }

        Assert.Equal(["1"], socket.Written);
        socket.Stalled.SetResult();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (socket.Written.Count < 1 + ComfyClientConnection.BufferedFrames)
        {
            await Task.Delay(5, deadline.Token);
        }

        var expected = new[] { "1" }.Concat(Enumerable.Range(sent - ComfyClientConnection.BufferedFrames + 1, ComfyClientConnection.BufferedFrames).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(expected, socket.Written);

        connection.Send(Frame(sent + 1));
        while (socket.Written.Count < 2 + ComfyClientConnection.BufferedFrames)
        {
            await Task.Delay(5, deadline.Token);
        }

        Assert.Equal((sent + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), socket.Written[^1]);
    }

    /// <summary>Records each frame written; while <see cref="Stalled"/> is pending, the first write waits for it (a client that reads nothing).</summary>
    private sealed class RecordingSocket : WebSocket
    {
        private readonly Lock _gate = new();
        private readonly List<string> _written = [];

        public TaskCompletionSource? Stalled { get; init; }

        public List<string> Written
        {
            get
            {
                lock (_gate)
                {
                    return [.. _written];
                }
            }
        }

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => WebSocketState.Open;

        public override string? SubProtocol => null;

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _written.Add(Encoding.UTF8.GetString(buffer));
            }

            return Stalled is { Task.IsCompleted: false } stalled ? stalled.Task : Task.CompletedTask;
        }

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            Task.FromResult(new WebSocketReceiveResult(0, WebSocketMessageType.Close, true));

        public override void Abort()
        {
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Dispose()
        {
        }
    }
}
