using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ComfyOperator.Kubernetes.Configuration;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Serialization;
using ComfyOperator.Kubernetes.Watch;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// The REST client. Each call runs under <see cref="KubernetesClientConfiguration.RequestTimeout"/>
/// (a <see cref="TimeoutException"/> when it expires) and the caller's token. Retries: 429 on every
/// verb (honouring Retry-After), 5xx and connection failures on reads, refused connections on
/// writes, and one retry after a 401 with a freshly read token.
/// </summary>
public sealed partial class KubernetesClient : IKubernetesClient, IDisposable
{
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(10);

    private readonly KubernetesClientConfiguration _configuration;
    private readonly HttpClient _http;
    private readonly string _baseAddress;
    private readonly ILogger _logger;
    private readonly KubernetesClientMetrics? _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ExponentialBackoff _retryBackoff;

    public KubernetesClient(
        KubernetesClientConfiguration configuration,
        ILogger<KubernetesClient>? logger = null,
        KubernetesClientMetrics? metrics = null,
        TimeProvider? timeProvider = null,
        HttpMessageHandler? handler = null,
        Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _configuration = configuration;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _metrics = metrics;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _retryBackoff = new ExponentialBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), 0.5, random);
        _http = new HttpClient(handler ?? CreateHandler(configuration), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _baseAddress = configuration.Host.ToString().TrimEnd('/');
    }

    public string DefaultNamespace => _configuration.Namespace;

    public KubernetesClientConfiguration Configuration => _configuration;

    public void Dispose() => _http.Dispose();

    public Task<T> ReadNamespacedAsync<T>(string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        GetObjectAsync<T>("get", Path<T>(@namespace, name, null), cancellationToken);

    public Task<T> ReadAsync<T>(string name, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        GetObjectAsync<T>("get", Path<T>(null, name, null), cancellationToken);

    public Task<KubernetesList<T>> ListNamespacedAsync<T>(string @namespace, ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        ListCoreAsync<T>(Path<T>(@namespace, null, null), options, cancellationToken);

    public Task<KubernetesList<T>> ListAsync<T>(ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        ListCoreAsync<T>(Path<T>(null, null, null), options, cancellationToken);

    public Task<T> CreateNamespacedAsync<T>(T body, string @namespace, string? fieldManager = null, bool dryRun = false, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        CreateCoreAsync(body, Path<T>(@namespace, null, null), fieldManager, dryRun, cancellationToken);

    public Task<T> CreateAsync<T>(T body, string? fieldManager = null, bool dryRun = false, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        CreateCoreAsync(body, Path<T>(null, null, null), fieldManager, dryRun, cancellationToken);

    public Task<T> ReplaceNamespacedAsync<T>(T body, string name, string @namespace, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PutAsync<T, T>(body, Path<T>(@namespace, name, null), fieldManager, cancellationToken);

    public Task<T> ReplaceAsync<T>(T body, string name, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PutAsync<T, T>(body, Path<T>(null, name, null), fieldManager, cancellationToken);

    public Task<T> PatchNamespacedAsync<T>(KubernetesPatch patch, string name, string @namespace, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PatchCoreAsync<T>(patch, Path<T>(@namespace, name, null), fieldManager, force, cancellationToken);

    public Task<T> PatchAsync<T>(KubernetesPatch patch, string name, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PatchCoreAsync<T>(patch, Path<T>(null, name, null), fieldManager, force, cancellationToken);

    public Task<T?> DeleteNamespacedAsync<T>(string name, string @namespace, DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        DeleteCoreAsync<T>(Path<T>(@namespace, name, null), options, cancellationToken);

    public Task<T?> DeleteAsync<T>(string name, DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        DeleteCoreAsync<T>(Path<T>(null, name, null), options, cancellationToken);

    public Task<T> ReadNamespacedStatusAsync<T>(string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        GetObjectAsync<T>("get", Path<T>(@namespace, name, "status"), cancellationToken);

    public Task<T> ReadStatusAsync<T>(string name, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        GetObjectAsync<T>("get", Path<T>(null, name, "status"), cancellationToken);

    public Task<T> ReplaceNamespacedStatusAsync<T>(T body, string name, string @namespace, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PutAsync<T, T>(body, Path<T>(@namespace, name, "status"), fieldManager, cancellationToken);

    public Task<T> ReplaceStatusAsync<T>(T body, string name, string? fieldManager = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PutAsync<T, T>(body, Path<T>(null, name, "status"), fieldManager, cancellationToken);

    public Task<T> PatchNamespacedStatusAsync<T>(KubernetesPatch patch, string name, string @namespace, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PatchCoreAsync<T>(patch, Path<T>(@namespace, name, "status"), fieldManager, force, cancellationToken);

    public Task<T> PatchStatusAsync<T>(KubernetesPatch patch, string name, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PatchCoreAsync<T>(patch, Path<T>(null, name, "status"), fieldManager, force, cancellationToken);

    public Task<Scale> ReadNamespacedScaleAsync<T>(string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        GetObjectAsync<Scale>("get", Path<T>(@namespace, name, "scale"), cancellationToken);

    public Task<Scale> ReplaceNamespacedScaleAsync<T>(Scale body, string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PutAsync<Scale, Scale>(body, Path<T>(@namespace, name, "scale"), null, cancellationToken);

    public Task<Scale> PatchNamespacedScaleAsync<T>(KubernetesPatch patch, string name, string @namespace, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        PatchCoreAsync<Scale>(patch, Path<T>(@namespace, name, "scale"), null, null, cancellationToken);

    public IAsyncEnumerable<WatchEvent<T>> WatchNamespacedAsync<T>(string @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        WatchCoreAsync<T>(Path<T>(@namespace, null, null), options ?? new WatchOptions(), cancellationToken);

    public IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(WatchOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<ObjectMeta> =>
        WatchCoreAsync<T>(Path<T>(null, null, null), options ?? new WatchOptions(), cancellationToken);

    private static string Path<T>(string? @namespace, string? name, string? subresource)
    {
        var type = ResourceType.Of<T>();
        if (@namespace is not null)
        {
            if (!type.Namespaced)
            {
                throw new ArgumentException($"{type.Kind} is cluster-scoped; use the method without 'Namespaced'.", nameof(@namespace));
            }

            ArgumentException.ThrowIfNullOrEmpty(@namespace);
        }
        else if (type.Namespaced && name is not null)
        {
            throw new ArgumentException($"{type.Kind} is namespaced; use the 'Namespaced' method.", nameof(@namespace));
        }

        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
        }

        return type.Path(@namespace, name, subresource);
    }

    private Task<T> GetObjectAsync<T>(string verb, string path, CancellationToken cancellationToken) =>
        RequestAsync(verb, HttpMethod.Get, path, null, ReadJsonAsync<T>, cancellationToken);

    private Task<KubernetesList<T>> ListCoreAsync<T>(string path, ListOptions? options, CancellationToken cancellationToken)
    {
        var query = new QueryBuilder()
            .Add("labelSelector", options?.LabelSelector)
            .Add("fieldSelector", options?.FieldSelector)
            .Add("limit", options?.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Add("continue", options?.Continue)
            .Add("resourceVersion", options?.ResourceVersion)
            .Add("resourceVersionMatch", options?.ResourceVersionMatch);
        return RequestAsync("list", HttpMethod.Get, path + query, null, ReadJsonAsync<KubernetesList<T>>, cancellationToken);
    }

    private Task<T> CreateCoreAsync<T>(T body, string path, string? fieldManager, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var query = new QueryBuilder().Add("fieldManager", fieldManager).Add("dryRun", dryRun ? "All" : null);
        var json = JsonSerializer.SerializeToUtf8Bytes(body, KubernetesJson.Options);
        return RequestAsync("create", HttpMethod.Post, path + query, () => JsonContent(json, "application/json"), ReadJsonAsync<T>, cancellationToken);
    }

    private Task<TResult> PutAsync<TBody, TResult>(TBody body, string path, string? fieldManager, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var json = JsonSerializer.SerializeToUtf8Bytes(body, KubernetesJson.Options);
        return RequestAsync("update", HttpMethod.Put, path + new QueryBuilder().Add("fieldManager", fieldManager), () => JsonContent(json, "application/json"), ReadJsonAsync<TResult>, cancellationToken);
    }

    private Task<T> PatchCoreAsync<T>(KubernetesPatch patch, string path, string? fieldManager, bool? force, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        if (patch.Type == PatchType.ApplyPatch && string.IsNullOrEmpty(fieldManager))
        {
            throw new ArgumentException("A server-side apply patch needs a field manager.", nameof(fieldManager));
        }

        var query = new QueryBuilder()
            .Add("fieldManager", fieldManager)
            .Add("force", force is { } f ? (f ? "true" : "false") : null);
        var bytes = Encoding.UTF8.GetBytes(patch.Content);
        return RequestAsync("patch", HttpMethod.Patch, path + query, () => JsonContent(bytes, patch.ContentType), ReadJsonAsync<T>, cancellationToken);
    }

    private Task<T?> DeleteCoreAsync<T>(string path, DeleteOptions? options, CancellationToken cancellationToken)
        where T : class
    {
        var json = options is null ? null : JsonSerializer.SerializeToUtf8Bytes(options, KubernetesJson.Options);
        return RequestAsync(
            "delete",
            HttpMethod.Delete,
            path,
            json is null ? null : () => JsonContent(json, "application/json"),
            static async (response, token) =>
            {
                await using var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                using var document = await JsonDocument.ParseAsync(stream, cancellationToken: token).ConfigureAwait(false);
                var root = document.RootElement;
                return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("kind", out var kind) && kind.ValueEquals("Status")
                    ? null
                    : root.Deserialize<T>(KubernetesJson.Options);
            },
            cancellationToken);
    }

    private async IAsyncEnumerable<WatchEvent<T>> WatchCoreAsync<T>(string path, WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = new QueryBuilder()
            .Add("watch", "true")
            .Add("labelSelector", options.LabelSelector)
            .Add("fieldSelector", options.FieldSelector)
            .Add("resourceVersion", options.ResourceVersion)
            .Add("allowWatchBookmarks", options.AllowWatchBookmarks ? "true" : null)
            .Add("timeoutSeconds", options.TimeoutSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture));

        HttpResponseMessage response;
        using (var timeout = new CancellationTokenSource(_configuration.RequestTimeout, _timeProvider))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        {
            try
            {
                response = await SendWithRetriesAsync("watch", HttpMethod.Get, path + query, null, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"watch {path} got no answer within {_configuration.RequestTimeout}.", exception);
            }
        }

        // The server ends the stream after timeoutSeconds; this guard only catches a server that never does.
        using var guard = options.TimeoutSeconds is { } seconds
            ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds) + TimeSpan.FromSeconds(30), _timeProvider)
            : new CancellationTokenSource();
        using var watchToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, guard.Token);
        using (response)
        {
            var stream = await response.Content.ReadAsStreamAsync(watchToken.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var enumerator = WatchStreamReader.ReadAsync<T>(stream, watchToken.Token).GetAsyncEnumerator(watchToken.Token);
                await using (enumerator.ConfigureAwait(false))
                {
                    while (true)
                    {
                        bool hasNext;
                        try
                        {
                            hasNext = await enumerator.MoveNextAsync().ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (guard.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                        {
                            yield break;
                        }

                        if (!hasNext)
                        {
                            yield break;
                        }

                        yield return enumerator.Current;
                    }
                }
            }
        }
    }

    private async Task<TResult> RequestAsync<TResult>(
        string verb,
        HttpMethod method,
        string pathAndQuery,
        Func<HttpContent>? content,
        Func<HttpResponseMessage, CancellationToken, Task<TResult>> read,
        CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_configuration.RequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await SendWithRetriesAsync(verb, method, pathAndQuery, content, linked.Token).ConfigureAwait(false);
            return await read(response, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{verb} {StripQuery(pathAndQuery)} did not complete within {_configuration.RequestTimeout}.", exception);
        }
    }

    /// <summary>Sends with retries; returns a success response (caller disposes) or throws <see cref="KubernetesException"/>.</summary>
    private async Task<HttpResponseMessage> SendWithRetriesAsync(string verb, HttpMethod method, string pathAndQuery, Func<HttpContent>? content, CancellationToken cancellationToken)
    {
        var isRead = method == HttpMethod.Get;
        var refreshToken = false;
        var triedRefresh = false;
        var attempt = 0;
        while (true)
        {
            var started = _timeProvider.GetTimestamp();
            HttpResponseMessage response;
            try
            {
                using var request = new HttpRequestMessage(method, _baseAddress + pathAndQuery);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                request.Content = content?.Invoke();
                await AuthenticateAsync(request, refreshToken, cancellationToken).ConfigureAwait(false);
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException exception) when (!cancellationToken.IsCancellationRequested)
            {
                _metrics?.Record(verb, "error", _timeProvider.GetElapsedTime(started));
                if (attempt < _configuration.MaxRetries && (isRead || IsConnectionRefused(exception)))
                {
                    var delay = _retryBackoff.Delay(attempt++);
                    LogRetry(_logger, verb, pathAndQuery, 0, delay);
                    await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw;
            }

            var code = (int)response.StatusCode;
            _metrics?.Record(verb, code.ToString(System.Globalization.CultureInfo.InvariantCulture), _timeProvider.GetElapsedTime(started));
            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && !triedRefresh && _configuration.TokenProvider is not null)
                {
                    // A rotated service-account token or an expired exec credential: read it again once.
                    triedRefresh = true;
                    refreshToken = true;
                    LogTokenRefresh(_logger, verb, pathAndQuery);
                    continue;
                }

                var retryable = response.StatusCode == HttpStatusCode.TooManyRequests ||
                    (isRead && code is 500 or 502 or 503 or 504);
                if (retryable && attempt < _configuration.MaxRetries)
                {
                    var delay = _retryBackoff.Delay(attempt++);
                    if (response.Headers.RetryAfter?.Delta is { } retryAfter)
                    {
                        delay = retryAfter < MaxRetryAfter ? retryAfter : MaxRetryAfter;
                    }

                    LogRetry(_logger, verb, pathAndQuery, code, delay);
                    await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw await ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task AuthenticateAsync(HttpRequestMessage request, bool refreshToken, CancellationToken cancellationToken)
    {
        if (_configuration.TokenProvider is { } provider)
        {
            var token = await provider.GetTokenAsync(refreshToken, cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(token))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                return;
            }
        }

        if (_configuration.BasicAuth is { } basic)
        {
            var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{basic.User}:{basic.Password}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", encoded);
        }
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await JsonSerializer.DeserializeAsync<T>(stream, KubernetesJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new KubernetesException($"The API answered {(int)response.StatusCode} with an empty body.");
        }
    }

    private static async Task<KubernetesException> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var code = (int)response.StatusCode;
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            body = string.Empty;
        }

        Status? status = null;
        if (body.Length > 0 && body.TrimStart().StartsWith('{'))
        {
            try
            {
                status = JsonSerializer.Deserialize<Status>(body, KubernetesJson.Options);
            }
            catch (JsonException)
            {
                status = null;
            }
        }

        if (status is null || status.Kind != "Status")
        {
            status = new Status
            {
                Outcome = "Failure",
                Code = code,
                Reason = response.ReasonPhrase,
                Message = body.Length > 500 ? body[..500] : body,
            };
        }

        status.Code ??= code;
        return new KubernetesException(status);
    }

    private static ByteArrayContent JsonContent(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static bool IsConnectionRefused(HttpRequestException exception) =>
        exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } ||
        exception.HttpRequestError == HttpRequestError.ConnectionError;

    private static string StripQuery(string pathAndQuery)
    {
        var index = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return index < 0 ? pathAndQuery : pathAndQuery[..index];
    }

    private static SocketsHttpHandler CreateHandler(KubernetesClientConfiguration configuration)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (!string.IsNullOrEmpty(configuration.TlsServerName))
        {
            handler.SslOptions.TargetHost = configuration.TlsServerName;
        }

        if (configuration.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }

        if (configuration.SkipTlsVerify)
        {
            // The user asked for it in kubeconfig (insecure-skip-tls-verify: true); honour it, as kubectl does.
#pragma warning disable CA5359
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (configuration.CaCertificates is { Count: > 0 } roots)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateAgainstRoots(certificate, errors, roots);
        }

        return handler;
    }

    /// <summary>Trusts exactly the kubeconfig / in-cluster CA, still requiring the host name to match.</summary>
    private static bool ValidateAgainstRoots(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    [LoggerMessage(EventId = EventIds.KubernetesClientRetry, Level = LogLevel.Debug, Message = "Kubernetes {Verb} {Path} answered {Code} (0: no answer); retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string verb, string path, int code, TimeSpan delay);

    [LoggerMessage(EventId = EventIds.KubernetesClientTokenRefresh, Level = LogLevel.Information, Message = "Kubernetes {Verb} {Path} answered 401; re-reading the credentials and retrying once")]
    private static partial void LogTokenRefresh(ILogger logger, string verb, string path);
}
