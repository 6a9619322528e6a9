using System.Collections.Frozen;
using System.Net;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ComfyOperator.Router.WebUi;

/// <summary>
/// Streams a request the router does not serve itself to the front-end worker (<see cref="FrontEndWorkers"/>)
/// and its answer back: headers as soon as the worker sends them, the body as it comes. Reads (GET, HEAD:
/// the front end's files) go to the next healthy worker when one does not answer (no connection, a 5xx,
/// no headers within <c>Router:WorkerRequestTimeout</c>); conditional requests go through, so a browser
/// revalidates with a cheap 304. Writes (custom nodes' own routes) stream their body, at most
/// <c>Router:WebUiProxyMaxBodyBytes</c>, and go to another worker only while the body has not been read:
/// a worker that had it may have acted on it, and its answer, a 5xx too, is the caller's. Hop-by-hop headers and the router's credentials
/// (<c>Authorization</c>, its cookie, the <c>token</c> parameter) never reach the worker.
/// </summary>
internal sealed partial class FrontEndProxy(
    FrontEndWorkers workers, IHttpClientFactory httpClients, IOptions<RouterOptions> options, ILogger<FrontEndProxy> logger)
{
    /// <summary>At most this many workers are tried for one request.</summary>
    private const int MaxTries = 3;

    /// <summary>
    /// Request headers not sent to the worker: hop-by-hop ones, the router's credentials, and the browser's
    /// origin (the router checked it; ComfyUI would compare it with its own loopback address and refuse).
    /// </summary>
    private static readonly FrozenSet<string> NotForwarded = new[]
    {
        HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.ProxyAuthenticate, HeaderNames.ProxyAuthorization, HeaderNames.TE,
        HeaderNames.Trailer, HeaderNames.TransferEncoding, HeaderNames.Upgrade, "Proxy-Connection", HeaderNames.Host, HeaderNames.Expect,
        HeaderNames.ContentLength, HeaderNames.Authorization, HeaderNames.Cookie, HeaderNames.Origin, HeaderNames.Referer,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly string[] ResponseHeaders =
        [HeaderNames.ETag, HeaderNames.LastModified, HeaderNames.AcceptRanges, HeaderNames.ContentDisposition, HeaderNames.ContentEncoding,
         HeaderNames.ContentLanguage, HeaderNames.ContentRange, HeaderNames.ContentType, HeaderNames.Vary];

    public async Task<FrontEndOutcome> ProxyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var target = PathAndQuery(context.Request);
        var method = context.Request.Method;
        var write = !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method);
        LimitedReadStream? body = null;
        if (write && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false)
        {
            var limit = options.Value.WebUiProxyMaxBodyBytes;
            if (context.Request.ContentLength > limit)
            {
                return FrontEndOutcome.TooLarge;
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }

            body = new LimitedReadStream(context.Request.Body, limit);
        }

        foreach (var worker in workers.Candidates().Take(MaxTries))
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(worker.BaseAddress, target));
            if (body is not null)
            {
                request.Content = new StreamContent(body) { Headers = { ContentLength = context.Request.ContentLength } };
            }

            CopyRequestHeaders(context.Request, request);
            HttpResponseMessage response;
            using var http = httpClients.CreateClient(HealthProber.HttpClientName);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.Value.WorkerRequestTimeout);
                try
                {
                    response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                }
                catch (Exception ex) when (BodyTooLarge(ex))
                {
                    return FrontEndOutcome.TooLarge;
                }
                catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    if (body is { Position: > 0 })
                    {
                        LogWriteFailed(logger, method, target, worker.Name, ex.Message);
                        return FrontEndOutcome.Failed;
                    }

                    LogWorkerFailed(logger, worker.Name, target, ex.Message);
                    continue;
                }
            }

            using (response)
            {
                if ((int)response.StatusCode >= 500 && !write)
                {
                    LogWorkerFailed(logger, worker.Name, target, $"HTTP {(int)response.StatusCode}");
                    continue;
                }

                // A write the worker answered with a 5xx is its custom node's answer (its own error text for
                // the extension to show), relayed as it is: the worker may have acted, so no other is tried.
                if ((int)response.StatusCode >= 500)
                {
                    LogWriteAnsweredError(logger, method, target, worker.Name, (int)response.StatusCode);
                }

                workers.Served(worker);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return FrontEndOutcome.NotFound;
                }

                await CopyAsync(response, context, cancellationToken);
                return FrontEndOutcome.Served;
            }
        }

        return FrontEndOutcome.Unavailable;
    }

    private static void CopyRequestHeaders(HttpRequest from, HttpRequestMessage to)
    {
        // A header the Connection header names is hop-by-hop too.
        var named = from.Headers.Connection.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in from.Headers)
        {
            if (NotForwarded.Contains(name) || named.Contains(name) || name.StartsWith(':'))
            {
                continue;
            }

            if (!to.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value))
            {
                to.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
            }
        }
    }

    /// <summary>Whether sending failed because the browser's body went over the limit while it was streamed.</summary>
    private static bool BodyTooLarge(Exception ex)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The request's path and query for the worker, without the router's <c>token</c> (the worker needs none and should not log one).</summary>
    private static string PathAndQuery(HttpRequest request)
    {
        var query = new QueryBuilder(request.Query.Where(p => p.Key != QueryTokenAllowed.Parameter));
        return request.Path.ToUriComponent().TrimStart('/') + query.ToQueryString();
    }

    private static async Task CopyAsync(HttpResponseMessage response, HttpContext context, CancellationToken cancellationToken)
    {
        var target = context.Response;
        target.StatusCode = (int)response.StatusCode;
        foreach (var name in ResponseHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            {
                target.Headers[name] = new StringValues([.. values]);
            }
        }

        target.ContentLength = response.Content.Headers.ContentLength;
        target.Headers.CacheControl = CacheControl(response);
        target.Headers.XContentTypeOptions = "nosniff";
        if (HttpMethods.IsHead(context.Request.Method) || response.StatusCode == HttpStatusCode.NotModified)
        {
            return;
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await body.CopyToAsync(target.Body, cancellationToken);
    }

    /// <summary>
    /// The worker's caching rules (ComfyUI marks the page and its scripts no-cache, hashed assets
    /// long-lived), made private: these answers are behind the router's sign-in, so no shared cache
    /// may keep them. Without rules, the browser revalidates each time (ETag, Last-Modified).
    /// </summary>
    private static string CacheControl(HttpResponseMessage response)
    {
        var worker = response.Headers.CacheControl;
        if (worker is null)
        {
            return "private, no-cache";
        }

        worker.Public = false;
        worker.Private = true;
        return worker.ToString();
    }

    [LoggerMessage(EventId = EventIds.FrontEndProxyWriteFailed, Level = LogLevel.Warning,
        Message = "{Method} {Path} failed on the front-end worker {Worker} ({Reason}); not sent to another worker, since this one may have acted on it")]
    private static partial void LogWriteFailed(ILogger logger, string method, string path, string worker, string reason);

    [LoggerMessage(EventId = EventIds.FrontEndProxyWriteAnsweredError, Level = LogLevel.Information,
        Message = "{Method} {Path} answered {Status} on the front-end worker {Worker}; relayed to the caller")]
    private static partial void LogWriteAnsweredError(ILogger logger, string method, string path, string worker, int status);

    [LoggerMessage(EventId = EventIds.FrontEndProxyWorkerFailed, Level = LogLevel.Warning,
        Message = "The front end's {Path} did not come from {Worker} ({Reason}); trying the next healthy worker")]
    private static partial void LogWorkerFailed(ILogger logger, string worker, string path, string reason);
}
