using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Comfy.Client;

/// <summary>
/// Opens the WebSocket to a worker (docs/comfyui-protocol.md §5.1): the HTTP/1.1 upgrade is written
/// here, straight on a TCP (or TLS) stream. A <see cref="ClientWebSocket"/> keeps the HTTP connection
/// it upgraded for the socket's whole life, with that connection's 4 KB read and 4 KB write buffers
/// and a connection pool per worker: about 10 KB per connected worker, held for nothing by a router
/// with a thousand idle workers. When a proxy applies to the address (<c>HTTP_PROXY</c>,
/// <c>HTTPS_PROXY</c>, <c>ALL_PROXY</c>, <c>NO_PROXY</c>), the upgrade is ClientWebSocket's, through
/// the proxy.
/// </summary>
public static class ComfyWebSocket
{
    /// <summary>The upgrade response's status line and headers may take at most this much.</summary>
    internal const int MaxResponseHeaderBytes = 16 * 1024;

    /// <summary>RFC 6455 §1.3: appended to the key before hashing it into Sec-WebSocket-Accept.</summary>
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>
    /// Connects to <paramref name="uri"/> (<c>ws</c> or <c>wss</c>). A refused or unreachable address,
    /// an answer other than 101, or a wrong Sec-WebSocket-Accept throw <see cref="WebSocketException"/>;
    /// cancelling throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<WebSocket> ConnectAsync(Uri uri, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var secure = uri.Scheme == Uri.UriSchemeWss;
        if (!uri.IsAbsoluteUri || (!secure && uri.Scheme != Uri.UriSchemeWs))
        {
            throw new ArgumentException($"A WebSocket address must be an absolute ws(s) URI; got '{uri}'.", nameof(uri));
        }

        var httpUri = new UriBuilder(uri) { Scheme = secure ? Uri.UriSchemeHttps : Uri.UriSchemeHttp }.Uri;
        if (HttpClient.DefaultProxy.GetProxy(httpUri) is not null && !HttpClient.DefaultProxy.IsBypassed(httpUri))
        {
            return await ConnectThroughProxyAsync(uri, keepAliveInterval, keepAliveTimeout, cancellationToken).ConfigureAwait(false);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            try
            {
                await socket.ConnectAsync(new DnsEndPoint(uri.IdnHost, uri.Port), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new WebSocketException(WebSocketError.Faulted, $"Unable to connect to {uri.Authority}: {ex.Message}", ex);
            }

            stream = new NetworkStream(socket, ownsSocket: true);
            if (secure)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                try
                {
                    await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = uri.IdnHost }, cancellationToken).ConfigureAwait(false);
                }
                catch (AuthenticationException ex)
                {
                    throw new WebSocketException(WebSocketError.Faulted, $"The TLS handshake with {uri.Authority} failed: {ex.Message}", ex);
                }
            }

            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
            if (!uri.IsDefaultPort)
            {
                host += ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
            }

            var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);
            var early = await ReadUpgradeAsync(stream, key, cancellationToken).ConfigureAwait(false);
            return WebSocket.CreateFromStream(
                early.Length == 0 ? stream : new UpgradedStream(early, stream),
                new WebSocketCreationOptions { KeepAliveInterval = keepAliveInterval, KeepAliveTimeout = keepAliveTimeout });
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    private static async Task<WebSocket> ConnectThroughProxyAsync(Uri uri, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = keepAliveInterval;
        socket.Options.KeepAliveTimeout = keepAliveTimeout;
        try
        {
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the upgrade response up to its blank line and checks it (RFC 6455 §4.1); returns the bytes
    /// read past it, the start of the worker's first frames (ComfyUI sends its status at once).
    /// </summary>
    private static async Task<byte[]> ReadUpgradeAsync(Stream stream, string key, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxResponseHeaderBytes);
        try
        {
            var count = 0;
            int end;
            while ((end = buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (count == MaxResponseHeaderBytes)
                {
                    throw new WebSocketException(WebSocketError.HeaderError, $"The worker's WebSocket upgrade response exceeds {MaxResponseHeaderBytes} bytes of headers.");
                }

                var read = await stream.ReadAsync(buffer.AsMemory(count, MaxResponseHeaderBytes - count), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The worker closed the connection during the WebSocket upgrade.");
                }

                count += read;
            }

            CheckUpgrade(Encoding.Latin1.GetString(buffer, 0, end), key);
            return buffer.AsSpan(end + 4, count - end - 4).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [SuppressMessage("Security", "CA5350:Do not use weak cryptographic algorithms", Justification = "RFC 6455 §4.1 defines Sec-WebSocket-Accept with SHA-1; it proves the peer speaks WebSocket, it protects nothing.")]
    internal static void CheckUpgrade(string head, string key)
    {
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            throw new WebSocketException(WebSocketError.HeaderError, "The worker's WebSocket upgrade response has no HTTP/1.1 status line.");
        }

        if (code != (int)HttpStatusCode.SwitchingProtocols)
        {
            throw new WebSocketException(WebSocketError.NotAWebSocket, $"The server returned status code '{code}' when status code '101' was expected.");
        }

        string? upgrade = null, connection = null, accept = null;
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line.AsSpan(0, colon).Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                upgrade = value;
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                connection = value;
            }
            else if (name.Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                accept = value;
            }
        }

        var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        if (!string.Equals(upgrade, "websocket", StringComparison.OrdinalIgnoreCase)
            || connection is null || !connection.Split(',', StringSplitOptions.TrimEntries).Contains("upgrade", StringComparer.OrdinalIgnoreCase)
            || accept != expected)
        {
            throw new WebSocketException(WebSocketError.HeaderError, "The worker's WebSocket upgrade response lacks Upgrade: websocket, Connection: Upgrade or the right Sec-WebSocket-Accept.");
        }
    }

    /// <summary>The upgraded stream, first giving back the frame bytes that arrived with the upgrade response.</summary>
    private sealed class UpgradedStream(byte[] early, Stream inner) : Stream
    {
        private byte[]? _early = early;
        private int _offset;

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _early is null ? inner.ReadAsync(buffer, cancellationToken) : ValueTask.FromResult(TakeEarly(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) =>
            _early is null ? inner.Read(buffer, offset, count) : TakeEarly(buffer.AsSpan(offset, count));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private int TakeEarly(Span<byte> destination)
        {
            var early = _early!;
            var n = Math.Min(destination.Length, early.Length - _offset);
            early.AsSpan(_offset, n).CopyTo(destination);
            _offset += n;
            if (_offset == early.Length)
            {
                _early = null;
            }

            return n;
        }
    }
}
