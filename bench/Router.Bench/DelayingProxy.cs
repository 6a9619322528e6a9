using System.Net;
using System.Net.Sockets;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of <paramref name="upstream"/> that holds each chunk the upstream sends back
/// for <paramref name="delay"/>: a store far away (S3 over a WAN) in front of a local one, about one delay per
/// request.
/// </summary>
internal sealed class DelayingProxy(IPEndPoint upstream, TimeSpan delay) : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _accepting;
    private long _held;

    /// <summary>Chunks held on their way back so far (about one per request).</summary>
    public long Held => Interlocked.Read(ref _held);

    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public static DelayingProxy Start(Uri upstream, TimeSpan delay)
    {
        var proxy = new DelayingProxy(new IPEndPoint(IPAddress.Loopback, upstream.Port), delay);
        proxy._listener.Start();
        proxy._accepting = proxy.AcceptAsync(proxy._stop.Token);
        return proxy;
    }

    private async Task AcceptAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            _ = ServeAsync(client, stop);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stop)
    {
        using var _ = client;
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(upstream, stop);
            await Task.WhenAny(PumpAsync(client, server, TimeSpan.Zero, stop), PumpAsync(server, client, delay, stop));
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            // A closed connection, or the bench is over.
        }
    }

    private async Task PumpAsync(Socket from, Socket to, TimeSpan hold, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, stop);
            if (read == 0)
            {
                to.Shutdown(SocketShutdown.Send);
                return;
            }

            if (hold > TimeSpan.Zero)
            {
                Interlocked.Increment(ref _held);
                await Task.Delay(hold, stop);
            }

            await to.SendAsync(buffer.AsMemory(0, read), stop);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accepting is not null)
        {
            await _accepting;
        }

        _stop.Dispose();
    }
}
