using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;
using ComfyOperator.Comfy.Nodes;

namespace ComfyOperator.Comfy.Client;

/// <summary>
/// HTTP client for one ComfyUI worker (docs/comfyui-protocol.md §2–§4). Every call has its own timeout
/// (<see cref="ComfyClientOptions"/>) linked to the caller's token; a timeout surfaces as
/// <see cref="TimeoutException"/>, a refused connection as <see cref="HttpRequestException"/>,
/// an unexpected status as <see cref="ComfyHttpException"/>, and a 400 from POST /prompt as
/// <see cref="ComfyPromptRejectedException"/>.
/// </summary>
public sealed class ComfyClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    private readonly HttpClient _http;
    private readonly bool _ownsHttpClient;
    private readonly TimeProvider _timeProvider;
    private readonly string _root;

    /// <summary>Creates a client over a caller-owned <see cref="HttpClient"/> (e.g. from IHttpClientFactory).</summary>
    public ComfyClient(HttpClient httpClient, Uri baseAddress, ComfyClientOptions? options = null, TimeProvider? timeProvider = null)
        : this(httpClient, false, baseAddress, options, timeProvider)
    {
    }

    /// <summary>Creates a client that owns its <see cref="HttpClient"/>.</summary>
    public ComfyClient(Uri baseAddress, ComfyClientOptions? options = null, TimeProvider? timeProvider = null)
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, true, baseAddress, options, timeProvider)
    {
    }

    private ComfyClient(HttpClient httpClient, bool ownsHttpClient, Uri baseAddress, ComfyClientOptions? options, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"A ComfyUI base address must be an absolute http(s) URI; got '{baseAddress}'.", nameof(baseAddress));
        }

        _http = httpClient;
        _ownsHttpClient = ownsHttpClient;
        Options = options ?? new ComfyClientOptions();
        _timeProvider = timeProvider ?? TimeProvider.System;
        BaseAddress = baseAddress;
        _root = baseAddress.GetLeftPart(UriPartial.Path).TrimEnd('/') + Options.PathPrefix.TrimEnd('/');

        // A worker on a loopback address answers 403 when Origin and Host differ (docs/comfyui-protocol.md §1). We are a
        // server-side caller: never send a browser's Origin, even if a shared HttpClient has one.
        _http.DefaultRequestHeaders.Remove("Origin");
    }

    public Uri BaseAddress { get; }

    public ComfyClientOptions Options { get; }

    /// <summary>The WebSocket URI for a client id (<c>ws[s]://host/ws?clientId=</c>, §5.1).</summary>
    public Uri GetWebSocketUri(string clientId)
    {
        var builder = new UriBuilder(_root + "/ws")
        {
            Scheme = BaseAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Query = "clientId=" + Uri.EscapeDataString(clientId),
        };
        return builder.Uri;
    }

    // ---------------------------------------------------------------- prompt

    /// <summary>POST /prompt. Throws <see cref="ComfyPromptRejectedException"/> on 400.</summary>
    public async Task<ComfyPromptAccepted> QueuePromptAsync(ComfyPromptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = WriteJson(writer =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("prompt");
            request.Prompt.WriteTo(writer);
            if (request.ClientId is not null)
            {
                writer.WriteString("client_id", request.ClientId);
            }

            if (request.PromptId is not null)
            {
                writer.WriteString("prompt_id", request.PromptId);
            }

            if (request.ExtraData is not null)
            {
                writer.WritePropertyName("extra_data");
                request.ExtraData.WriteTo(writer);
            }

            if (request.Number is { } number)
            {
                writer.WriteNumber("number", number);
            }
            else if (request.Front)
            {
                writer.WriteBoolean("front", true);
            }

            if (request.PartialExecutionTargets is { } targets)
            {
                writer.WriteStartArray("partial_execution_targets");
                foreach (var t in targets)
                {
                    writer.WriteStringValue(t);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        });

        const string path = "/prompt";
        var (status, text) = await SendAsync(HttpMethod.Post, path, body, Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return ParsePromptResponse(path, status, text);
    }

    internal static ComfyPromptAccepted ParsePromptResponse(string path, HttpStatusCode status, string text)
    {
        var json = JsonRead.ParseObject(text);
        if (status == HttpStatusCode.OK && json is not null && JsonRead.String(json, "prompt_id") is { } promptId)
        {
            return new ComfyPromptAccepted(
                promptId,
                JsonRead.Double(json, "number") ?? 0,
                ComfyNodeError.ParseAll(json["node_errors"]));
        }

        if (status == HttpStatusCode.BadRequest && json is not null && json.ContainsKey("error"))
        {
            throw new ComfyPromptRejectedException(
                path,
                ComfyErrorDetail.Parse(json["error"]),
                ComfyNodeError.ParseAll(json["node_errors"]),
                text);
        }

        throw new ComfyHttpException("POST", path, status, text,
            status == HttpStatusCode.OK ? $"ComfyUI POST {path} answered 200 without a prompt_id: {Truncate(text)}" : null);
    }

    /// <summary>GET /prompt: pending + running count.</summary>
    public async Task<int> GetQueueRemainingAsync(CancellationToken cancellationToken = default)
    {
        var json = await GetJsonObjectAsync("/prompt", Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return (int)(JsonRead.Long(JsonRead.Object(json, "exec_info"), "queue_remaining") ?? 0);
    }

    // ---------------------------------------------------------------- queue, interrupt, free

    /// <summary>GET /queue, pending sorted by priority.</summary>
    public async Task<ComfyQueueState> GetQueueAsync(CancellationToken cancellationToken = default)
    {
        var json = await GetJsonObjectAsync("/queue", Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return ComfyQueueState.Parse(json);
    }

    /// <summary>POST /queue {"delete": [...]}: removes pending prompts (not the running one: use <see cref="InterruptAsync"/>).</summary>
    public Task DeleteFromQueueAsync(IEnumerable<string> promptIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        var array = new JsonArray();
        foreach (var id in promptIds)
        {
            array.Add(id);
        }

        return PostExpectOkAsync("/queue", new JsonObject { ["delete"] = array }, cancellationToken);
    }

    /// <summary>POST /queue {"clear": true}: empties the pending queue.</summary>
    public Task ClearQueueAsync(CancellationToken cancellationToken = default) =>
        PostExpectOkAsync("/queue", new JsonObject { ["clear"] = true }, cancellationToken);

    /// <summary>
    /// POST /interrupt. With a prompt id (≥ 0.3.56) only that prompt is interrupted, and only if it
    /// is running; without one, whatever runs is interrupted (whoever submitted it).
    /// </summary>
    public Task InterruptAsync(string? promptId = null, CancellationToken cancellationToken = default)
    {
        var body = promptId is null ? new JsonObject() : new JsonObject { ["prompt_id"] = promptId };
        return PostExpectOkAsync("/interrupt", body, cancellationToken);
    }

    /// <summary>POST /free: unload models and/or drop the node cache.</summary>
    public Task FreeAsync(bool unloadModels, bool freeMemory, CancellationToken cancellationToken = default) =>
        PostExpectOkAsync("/free", new JsonObject { ["unload_models"] = unloadModels, ["free_memory"] = freeMemory }, cancellationToken);

    // ---------------------------------------------------------------- history

    /// <summary>GET /history/{id}; null when the server answers <c>{}</c> (unknown, pending, running, deleted or lost).</summary>
    public async Task<ComfyHistoryEntry?> GetHistoryAsync(string promptId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(promptId);
        var json = await GetJsonObjectAsync("/history/" + Uri.EscapeDataString(promptId), Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return json[promptId] is JsonObject entry ? ComfyHistoryEntry.Parse(promptId, entry) : null;
    }

    /// <summary>GET /history[?max_items=N]: entries oldest first (the server's insertion order).</summary>
    public async Task<IReadOnlyList<ComfyHistoryEntry>> GetHistoryListAsync(int? maxItems = null, CancellationToken cancellationToken = default)
    {
        var path = maxItems is { } n ? "/history?max_items=" + n.ToString(CultureInfo.InvariantCulture) : "/history";
        var json = await GetJsonObjectAsync(path, Options.LongRequestTimeout, cancellationToken).ConfigureAwait(false);
        var list = new List<ComfyHistoryEntry>(json.Count);
        foreach (var (id, value) in json)
        {
            if (value is JsonObject entry)
            {
                list.Add(ComfyHistoryEntry.Parse(id, entry));
            }
        }

        return list;
    }

    /// <summary>POST /history {"delete": [...]}.</summary>
    public Task DeleteHistoryAsync(IEnumerable<string> promptIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        var array = new JsonArray();
        foreach (var id in promptIds)
        {
            array.Add(id);
        }

        return PostExpectOkAsync("/history", new JsonObject { ["delete"] = array }, cancellationToken);
    }

    /// <summary>POST /history {"clear": true}.</summary>
    public Task ClearHistoryAsync(CancellationToken cancellationToken = default) =>
        PostExpectOkAsync("/history", new JsonObject { ["clear"] = true }, cancellationToken);

    // ---------------------------------------------------------------- files

    /// <summary>
    /// GET /view as a stream. The timeout covers the response headers; reading the body is bounded
    /// by <paramref name="cancellationToken"/> only. 404 (missing file) throws <see cref="ComfyHttpException"/>.
    /// </summary>
    public async Task<ComfyFileContent> ViewAsync(ComfyFileRef file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var query = new StringBuilder("/view?filename=").Append(Uri.EscapeDataString(file.Filename));
        if (!string.IsNullOrEmpty(file.Subfolder))
        {
            query.Append("&subfolder=").Append(Uri.EscapeDataString(file.Subfolder));
        }

        if (!string.IsNullOrEmpty(file.Type))
        {
            query.Append("&type=").Append(Uri.EscapeDataString(file.Type));
        }

        var path = query.ToString();
        using var timeout = new CancellationTokenSource(Options.LongRequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage? response = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _root + path);
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
                throw new ComfyHttpException("GET", path, response.StatusCode, text);
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var content = new ComfyFileContent(response, stream);
            response = null;
            return content;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"ComfyUI GET {path} did not answer within {Options.LongRequestTimeout}.", ex);
        }
        finally
        {
            response?.Dispose();
        }
    }

    /// <summary>POST /upload/image (multipart).</summary>
    public Task<ComfyUploadResult> UploadImageAsync(Stream content, string fileName, ComfyUploadOptions? options = null, CancellationToken cancellationToken = default) =>
        UploadAsync("/upload/image", content, fileName, options, null, cancellationToken);

    /// <summary>
    /// POST /upload/mask: the uploaded file's alpha is copied into <paramref name="originalRef"/>'s
    /// image and saved at the upload path.
    /// </summary>
    public Task<ComfyUploadResult> UploadMaskAsync(Stream content, string fileName, ComfyFileRef originalRef, ComfyUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(originalRef);
        var reference = new JsonObject
        {
            ["filename"] = originalRef.Filename,
            ["subfolder"] = originalRef.Subfolder,
            ["type"] = originalRef.Type,
        };
        return UploadAsync("/upload/mask", content, fileName, options, reference.ToJsonString(), cancellationToken);
    }

    private async Task<ComfyUploadResult> UploadAsync(string path, Stream content, string fileName, ComfyUploadOptions? options, string? originalRef, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        options ??= new ComfyUploadOptions();

        using var form = new MultipartFormDataContent();
        var file = new StreamContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(GuessMediaType(fileName));
        file.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data")
        {
            Name = "\"image\"",
            FileName = "\"" + fileName.Replace("\"", "", StringComparison.Ordinal) + "\"",
        };
        form.Add(file);
        AddField(form, "type", options.Type);
        if (!string.IsNullOrEmpty(options.Subfolder))
        {
            AddField(form, "subfolder", options.Subfolder);
        }

        AddField(form, "overwrite", options.Overwrite ? "true" : "false");
        if (originalRef is not null)
        {
            AddField(form, "original_ref", originalRef);
        }

        var (status, text) = await SendAsync(HttpMethod.Post, path, form, Options.LongRequestTimeout, cancellationToken).ConfigureAwait(false);
        var json = status == HttpStatusCode.OK ? JsonRead.ParseObject(text) : null;
        if (json is null || JsonRead.String(json, "name") is not { } name)
        {
            throw new ComfyHttpException("POST", path, status, text);
        }

        return new ComfyUploadResult(name, JsonRead.String(json, "subfolder") ?? "", JsonRead.String(json, "type") ?? options.Type);
    }

    // ---------------------------------------------------------------- system, nodes, models

    /// <summary>GET /system_stats.</summary>
    public async Task<ComfySystemStats> GetSystemStatsAsync(CancellationToken cancellationToken = default)
    {
        var json = await GetJsonObjectAsync("/system_stats", Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return ComfySystemStats.Parse(json);
    }

    /// <summary>GET /features.</summary>
    public async Task<ComfyFeatures> GetFeaturesAsync(CancellationToken cancellationToken = default)
    {
        var json = await GetJsonObjectAsync("/features", Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return ComfyFeatures.Parse(json);
    }

    /// <summary>GET /object_info: every node class of the worker (large; cache it).</summary>
    public async Task<ComfyObjectInfo> GetObjectInfoAsync(CancellationToken cancellationToken = default)
    {
        var json = await GetJsonObjectAsync("/object_info", Options.LongRequestTimeout, cancellationToken).ConfigureAwait(false);
        return ComfyObjectInfo.Parse(json);
    }

    /// <summary>GET /object_info/{class}; null when the worker does not know the class (<c>{}</c>).</summary>
    public async Task<ComfyNodeInfo?> GetObjectInfoAsync(string classType, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(classType);
        var json = await GetJsonObjectAsync("/object_info/" + Uri.EscapeDataString(classType), Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return json[classType] is JsonObject info ? ComfyNodeInfo.Parse(classType, info) : null;
    }

    /// <summary>GET /models: the model folder keys.</summary>
    public async Task<IReadOnlyList<string>> GetModelFoldersAsync(CancellationToken cancellationToken = default)
    {
        var (status, text) = await SendAsync(HttpMethod.Get, "/models", null, Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return ParseStringList("/models", status, text) ?? throw new ComfyHttpException("GET", "/models", status, text);
    }

    /// <summary>GET /models/{folder}: file paths relative to the folder; null for an unknown folder (404).</summary>
    public async Task<IReadOnlyList<string>?> GetModelsAsync(string folder, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var path = "/models/" + Uri.EscapeDataString(folder);
        var (status, text) = await SendAsync(HttpMethod.Get, path, null, Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (status == HttpStatusCode.NotFound)
        {
            return null;
        }

        return ParseStringList(path, status, text) ?? throw new ComfyHttpException("GET", path, status, text);
    }

    private static List<string>? ParseStringList(string path, HttpStatusCode status, string text)
    {
        if (status != HttpStatusCode.OK)
        {
            throw new ComfyHttpException("GET", path, status, text);
        }

        try
        {
            return JsonNode.Parse(text) is JsonArray array ? [.. JsonRead.StringList(array)] : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---------------------------------------------------------------- plumbing

    private async Task<JsonObject> GetJsonObjectAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (status, text) = await SendAsync(HttpMethod.Get, path, null, timeout, cancellationToken).ConfigureAwait(false);
        if (status != HttpStatusCode.OK)
        {
            throw new ComfyHttpException("GET", path, status, text);
        }

        return JsonRead.ParseObject(text)
            ?? throw new ComfyHttpException("GET", path, status, text, $"ComfyUI GET {path} answered 200 with a body that is not a JSON object: {Truncate(text)}");
    }

    private async Task PostExpectOkAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = JsonMediaType;
        var (status, text) = await SendAsync(HttpMethod.Post, path, content, Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (status != HttpStatusCode.OK)
        {
            throw new ComfyHttpException("POST", path, status, text);
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, HttpContent? content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            using var request = new HttpRequestMessage(method, _root + path) { Content = content };
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            return (response.StatusCode, text);
        }
        catch (OperationCanceledException ex) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"ComfyUI {method} {path} at {BaseAddress} did not answer within {timeout}.", ex);
        }
    }

    private static ByteArrayContent WriteJson(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    private static void AddField(MultipartFormDataContent form, string name, string value)
    {
        var field = new StringContent(value);
        field.Headers.ContentType = null;
        field.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"" + name + "\"" };
        form.Add(field);
    }

    private static string GuessMediaType(string fileName) =>
        Path.GetExtension(fileName).ToUpperInvariant() switch
        {
            ".PNG" => "image/png",
            ".JPG" or ".JPEG" => "image/jpeg",
            ".WEBP" => "image/webp",
            ".GIF" => "image/gif",
            _ => "application/octet-stream",
        };

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;

    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _http.Dispose();
        }
    }
}
