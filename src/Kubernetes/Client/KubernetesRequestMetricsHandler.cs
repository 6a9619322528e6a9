using System.Diagnostics;
using System.Globalization;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// Records every request the official client sends into <see cref="KubernetesClientMetrics"/>
/// (<c>kubernetes_client_requests_total{verb,code}</c> and the latency histogram). Pass it to
/// <c>new k8s.Kubernetes(config, handler)</c>. The verb is the Kubernetes one, read from the method
/// and the URL: a GET is a <c>watch</c> with <c>watch=true</c>, a <c>list</c> on a collection and a
/// <c>get</c> on one object or its subresource; PUT is <c>update</c>. A watch is timed to its response
/// headers, as the official client asks for them before it reads the stream.
/// </summary>
public sealed class KubernetesRequestMetricsHandler(KubernetesClientMetrics metrics, TimeProvider? timeProvider = null) : DelegatingHandler
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var verb = VerbOf(request.Method, request.RequestUri);
        var started = _time.GetTimestamp();
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            metrics.Record(verb, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), _time.GetElapsedTime(started));
            return response;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.Record(verb, "error", _time.GetElapsedTime(started));
            throw;
        }
    }

    /// <summary>The Kubernetes verb of a request to <c>/api/v1/...</c> or <c>/apis/group/version/...</c>.</summary>
    internal static string VerbOf(HttpMethod method, Uri? uri)
    {
        if (method == HttpMethod.Post)
        {
            return "create";
        }

        if (method == HttpMethod.Put)
        {
            return "update";
        }

        if (method == HttpMethod.Patch)
        {
            return "patch";
        }

        if (method == HttpMethod.Delete)
        {
            return "delete";
        }

        if (method != HttpMethod.Get || uri is null)
        {
            return method.Method.ToLowerInvariant();
        }

        var query = uri.IsAbsoluteUri ? uri.Query : string.Empty;
        if (query.Contains("watch=true", StringComparison.OrdinalIgnoreCase) || query.Contains("watch=1", StringComparison.Ordinal))
        {
            return "watch";
        }

        return ResourceSegments(uri) == 1 ? "list" : "get";
    }

    /// <summary>Path segments after the group/version and the namespace: 1 for a collection, 2 or more for an object or its subresource.</summary>
    private static int ResourceSegments(Uri uri)
    {
        var path = uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?')[0];
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int skip;
        if (segments.Length >= 2 && segments[0] == "api")
        {
            skip = 2;
        }
        else if (segments.Length >= 3 && segments[0] == "apis")
        {
            skip = 3;
        }
        else
        {
            return 0;
        }

        var rest = segments.Length - skip;
        // namespaces/{ns}/{plural}[/{name}...]: the namespace is a scope, not the resource.
        if (rest >= 3 && segments[skip] == "namespaces")
        {
            rest -= 2;
        }

        Debug.Assert(rest >= 0);
        return rest;
    }
}
