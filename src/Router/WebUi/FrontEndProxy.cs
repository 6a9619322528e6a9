using System.Net;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ComfyOperator.Router.WebUi;

/// <summary>
/// Streams a read (GET, HEAD) from the front-end worker (<see cref="FrontEndWorkers"/>) to the browser:
/// headers as soon as the worker sends them, the body as it comes. A worker that does not answer (no
/// connection, a 5xx, no headers within <c>Router:WorkerRequestTimeout</c>) is skipped for the next
/// healthy one. Conditional requests go through, so a browser revalidates with a cheap 304.
/// </summary>
internal sealed partial class FrontEndProxy(
    FrontEndWorkers workers, IHttpClientFactory httpClients, IOptions<RouterOptions> options, ILogger<FrontEndProxy> logger)
{
    /// <summary>At most this many workers are tried for one request.</summary>
    private const int MaxTries = 3;

    private static readonly string[] RequestHeaders =
        [HeaderNames.Accept, HeaderNames.AcceptEncoding, HeaderNames.AcceptLanguage, HeaderNames.IfNoneMatch, HeaderNames.IfModifiedSince, HeaderNames.Range, HeaderNames.IfRange];

    private static readonly string[] ResponseHeaders =
        [HeaderNames.ETag, HeaderNames.LastModified, HeaderNames.AcceptRanges, HeaderNames.ContentDisposition, HeaderNames.ContentEncoding,
         HeaderNames.ContentLanguage, HeaderNames.ContentRange, HeaderNames.ContentType, HeaderNames.Vary];

    public async Task<FrontEndOutcome> ProxyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var target = PathAndQuery(context.Request);
        foreach (var worker in workers.Candidates().Take(MaxTries))
        {
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(worker.BaseAddress, target));
            foreach (var name in RequestHeaders)
            {
                if (context.Request.Headers.TryGetValue(name, out var value))
                {
                    request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
                }
            }

            HttpResponseMessage response;
            using var http = httpClients.CreateClient(HealthProber.HttpClientName);
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                limit.CancelAfter(options.Value.WorkerRequestTimeout);
                try
                {
                    response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    LogWorkerFailed(logger, worker.Name, target, ex.Message);
                    continue;
                }
            }

            using (response)
            {
                if ((int)response.StatusCode >= 500)
                {
                    LogWorkerFailed(logger, worker.Name, target, $"HTTP {(int)response.StatusCode}");
                    continue;
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

    [LoggerMessage(EventId = EventIds.FrontEndProxyWorkerFailed, Level = LogLevel.Warning,
        Message = "The front end's {Path} did not come from {Worker} ({Reason}); trying the next healthy worker")]
    private static partial void LogWorkerFailed(ILogger logger, string worker, string path, string reason);
}
