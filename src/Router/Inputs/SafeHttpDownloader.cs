using System.Net;
using System.Net.Sockets;

namespace ComfyOperator.Router.Inputs;

/// <summary>
/// Fetches user-supplied URLs without becoming an SSRF proxy: http/https only; every host is
/// resolved here and each address vetted by <see cref="AddressPolicy"/>; the socket connects to
/// the vetted address itself (so a second, rebinding DNS answer is never used); redirects are
/// followed by hand and re-checked on every hop; size, time and content type are bounded.
/// </summary>
internal sealed class SafeHttpDownloader : IDisposable
{
    private static readonly HttpRequestOptionsKey<string> InputNameKey = new("comfyoperator.input");

    private readonly InputCacheOptions _options;
    private readonly AddressPolicy _policy;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly HttpClient _client;

    public SafeHttpDownloader(InputCacheOptions options, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        _options = options;
        _policy = new AddressPolicy(options.AllowedNetworks);
        _resolve = resolve ?? ((host, token) => Dns.GetHostAddressesAsync(host, token));
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public AddressPolicy Policy => _policy;

    /// <summary>Checks the URL's scheme and host before any request; throws <see cref="InputRefusedException"/>.</summary>
    public async Task CheckUrlAsync(string inputName, Uri url, CancellationToken cancellationToken)
    {
        CheckScheme(inputName, url);
        _ = await ResolveVettedAsync(inputName, url.IdnHost, cancellationToken);
    }

    /// <summary>Downloads <paramref name="url"/> into <paramref name="destination"/>, refusing anything outside the rules.</summary>
    public async Task<DownloadResult> DownloadAsync(
        string inputName, Uri url, InputKind kind, long maxBytes, Stream destination, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DownloadTimeout);
        try
        {
            var current = url;
            for (var hop = 0; ; hop++)
            {
                await CheckUrlAsync(inputName, current, timeout.Token);
                using var request = new HttpRequestMessage(HttpMethod.Get, current);
                request.Options.Set(InputNameKey, inputName);
                using var response = await SendAsync(inputName, request, timeout.Token);
                if (IsRedirect(response.StatusCode))
                {
                    if (hop >= _options.MaxRedirects)
                    {
                        throw new InputRefusedException(inputName, $"more than {_options.MaxRedirects} redirects");
                    }

                    var location = response.Headers.Location
                        ?? throw new InputRefusedException(inputName, $"redirect {(int)response.StatusCode} without a Location header");
                    current = location.IsAbsoluteUri ? location : new Uri(current, location);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new InputRefusedException(inputName, $"{Redact(current)} answered HTTP {(int)response.StatusCode}");
                }

                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (!ContentTypeAllowed(mediaType, _options.ContentTypesFor(kind)))
                {
                    throw new InputRefusedException(inputName, $"content type '{mediaType}' is not accepted for a {kind.ToString().ToUpperInvariant()} input");
                }

                if (response.Content.Headers.ContentLength is { } length && length > maxBytes)
                {
                    throw new InputRefusedException(inputName, $"the download is {length} bytes, above the limit of {maxBytes} bytes");
                }

                var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                await using (stream.ConfigureAwait(false))
                {
                    var total = await BoundedCopy.CopyAsync(inputName, "the download", stream, destination, maxBytes, timeout.Token);
                    return new DownloadResult(total, mediaType, current);
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new InputRefusedException(inputName, $"the download did not finish within {_options.DownloadTimeout}");
        }
    }

    /// <summary>Sends one request through the guarded client (webhooks use this too); no redirects are followed.</summary>
    public async Task<HttpResponseMessage> SendAsync(string inputName, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckScheme(inputName, request.RequestUri!);
        request.Options.Set(InputNameKey, inputName);
        try
        {
            return await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException exception) when (exception.InnerException is InputRefusedException refused)
        {
            throw new InputRefusedException(refused.InputName, refused.Reason, exception);
        }
        catch (HttpRequestException exception)
        {
            throw new InputRefusedException(inputName, $"{Redact(request.RequestUri!)} could not be fetched: {exception.Message}", exception);
        }
    }

    public void Dispose() => _client.Dispose();

    internal static bool ContentTypeAllowed(string? mediaType, IReadOnlyList<string> allowed)
    {
        var type = string.IsNullOrWhiteSpace(mediaType) ? "application/octet-stream" : mediaType.Trim().ToUpperInvariant();
        foreach (var pattern in allowed)
        {
            var upper = pattern.Trim().ToUpperInvariant();
            if (upper == "*/*" || upper == type)
            {
                return true;
            }

            if (upper.EndsWith('*') && type.StartsWith(upper[..^1], StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static string Redact(Uri url) => url.GetLeftPart(UriPartial.Path);

    private static void CheckScheme(string inputName, Uri url)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new InputRefusedException(inputName, "only http and https URLs are allowed");
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            throw new InputRefusedException(inputName, "URLs with credentials in them are not allowed");
        }
    }

    private async Task<IPAddress[]> ResolveVettedAsync(string inputName, string host, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await _resolve(host, cancellationToken);
            }
            catch (SocketException exception)
            {
                throw new InputRefusedException(inputName, $"host '{host}' could not be resolved", exception);
            }
        }

        if (addresses.Length == 0)
        {
            throw new InputRefusedException(inputName, $"host '{host}' has no addresses");
        }

        // Every answer must be acceptable: a name that also resolves to a private address is refused outright.
        foreach (var address in addresses)
        {
            if (_policy.Check(address) is { } reason)
            {
                throw new InputRefusedException(inputName, $"host '{host}' resolves to a forbidden address: {reason}");
            }
        }

        return addresses;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var inputName = context.InitialRequestMessage.Options.TryGetValue(InputNameKey, out var name) ? name : "url";
        var addresses = await ResolveVettedAsync(inputName, context.DnsEndPoint.Host, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
