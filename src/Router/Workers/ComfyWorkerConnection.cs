using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// <see cref="IComfyWorker"/> over HTTP and one WebSocket (protocol doc §2–§5). The socket
/// reconnects with capped backoff and always with the same client id, after the old socket is
/// closed (the reconnect pitfall of §5.1). Binary previews carry no prompt id, so they are
/// attributed to the prompt that last started executing on this worker.
/// </summary>
internal sealed partial class ComfyWorkerConnection : IComfyWorker
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;
    private readonly string _clientId;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Channel<WorkerEvent>> _watches = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private volatile bool _connected;
    private string? _currentPrompt;
    private DateTimeOffset? _disconnectedSince;

    public ComfyWorkerConnection(Uri baseAddress, string clientId, HttpClient http, TimeSpan requestTimeout, TimeProvider time, ILogger logger)
    {
        BaseAddress = baseAddress;
        _clientId = clientId;
        _http = http;
        _requestTimeout = requestTimeout;
        _time = time;
        _logger = logger;
        _disconnectedSince = time.GetUtcNow();
    }

    public Uri BaseAddress { get; }

    public bool IsConnected => _connected;

    public DateTimeOffset? DisconnectedSince => _connected ? null : _disconnectedSince;

    public event EventHandler? Connected;

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    public WorkerWatch Watch(string promptId)
    {
        var channel = Channel.CreateUnbounded<WorkerEvent>(new UnboundedChannelOptions { SingleReader = true });
        _watches[promptId] = channel;
        return new WorkerWatch(channel.Reader, () =>
        {
            _watches.TryRemove(new KeyValuePair<string, Channel<WorkerEvent>>(promptId, channel));
            channel.Writer.TryComplete();
        });
    }

    public async Task PostPromptAsync(JsonObject prompt, string promptId, CancellationToken cancellationToken)
    {
        using var timeout = Timeout(cancellationToken);
        var body = new JsonObject { ["prompt"] = prompt, ["client_id"] = _clientId, ["prompt_id"] = promptId };
        using var response = await _http.PostAsJsonAsync(new Uri(BaseAddress, "prompt"), body, timeout.Token);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            throw await RejectionAsync(response, timeout.Token);
        }

        response.EnsureSuccessStatusCode();
    }

    public async Task<WorkerHistory?> GetHistoryAsync(string promptId, CancellationToken cancellationToken)
    {
        using var timeout = Timeout(cancellationToken);
        using var document = await _http.GetFromJsonAsync<JsonDocument>(new Uri(BaseAddress, "history/" + Uri.EscapeDataString(promptId)), timeout.Token);
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty(promptId, out var entry))
        {
            return null;
        }

        var succeeded = false;
        var interrupted = false;
        WorkerEvent? error = null;
        if (entry.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object)
        {
            succeeded = status.TryGetProperty("status_str", out var text) && text.ValueKind == JsonValueKind.String && text.GetString() == "success";
            if (status.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in messages.EnumerateArray())
                {
                    if (message.ValueKind != JsonValueKind.Array || message.GetArrayLength() < 2)
                    {
                        continue;
                    }

                    var type = message[0].GetString();
                    if (type == "execution_interrupted")
                    {
                        interrupted = true;
                    }
                    else if (type == "execution_error")
                    {
                        error = ErrorEvent(WorkerEventKind.Failed, promptId, message[1]);
                    }
                }
            }
        }

        var files = entry.TryGetProperty("outputs", out var outputs) ? ReadFiles(outputs) : [];
        return new WorkerHistory(succeeded, interrupted, error, files);
    }

    public async Task<WorkerQueue> GetQueueAsync(CancellationToken cancellationToken)
    {
        using var timeout = Timeout(cancellationToken);
        using var document = await _http.GetFromJsonAsync<JsonDocument>(new Uri(BaseAddress, "queue"), timeout.Token);
        var root = document!.RootElement;
        return new WorkerQueue(Ids(root, "queue_running"), Ids(root, "queue_pending"));

        static List<string> Ids(JsonElement root, string name)
        {
            var ids = new List<string>();
            if (root.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() > 1 && item[1].ValueKind == JsonValueKind.String)
                    {
                        ids.Add(item[1].GetString()!);
                    }
                }
            }

            return ids;
        }
    }

    public async Task DeleteQueuedAsync(string promptId, CancellationToken cancellationToken)
    {
        using var timeout = Timeout(cancellationToken);
        using var response = await _http.PostAsJsonAsync(new Uri(BaseAddress, "queue"), new JsonObject { ["delete"] = new JsonArray(promptId) }, timeout.Token);
        response.EnsureSuccessStatusCode();
    }

    public async Task InterruptAsync(string promptId, CancellationToken cancellationToken)
    {
        // Always with prompt_id: a bare interrupt would stop whatever runs, possibly someone else's prompt.
        using var timeout = Timeout(cancellationToken);
        using var response = await _http.PostAsJsonAsync(new Uri(BaseAddress, "interrupt"), new JsonObject { ["prompt_id"] = promptId }, timeout.Token);
        response.EnsureSuccessStatusCode();
    }

    public async Task<Stream> OpenFileAsync(WorkerFile file, CancellationToken cancellationToken)
    {
        var query = $"view?filename={Uri.EscapeDataString(file.FileName)}&subfolder={Uri.EscapeDataString(file.Subfolder)}&type={Uri.EscapeDataString(file.Type)}";
        using var timeout = Timeout(cancellationToken);
        using var response = await _http.GetAsync(new Uri(BaseAddress, query), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        var buffer = new MemoryStream();
        await response.Content.CopyToAsync(buffer, timeout.Token);
        buffer.Position = 0;
        return buffer;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }

        _stop.Dispose();
    }

    private CancellationTokenSource Timeout(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_requestTimeout);
        return timeout;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        var builder = new UriBuilder(BaseAddress) { Scheme = BaseAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" };
        builder.Path = builder.Path.TrimEnd('/') + "/ws";
        builder.Query = "clientId=" + Uri.EscapeDataString(_clientId);
        var uri = builder.Uri;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
            try
            {
                using (var connectTimeout = Timeout(cancellationToken))
                {
                    await socket.ConnectAsync(uri, connectTimeout.Token);
                }

                _connected = true;
                backoff = TimeSpan.FromMilliseconds(100);
                LogConnected(_logger, BaseAddress);
                Connected?.Invoke(this, EventArgs.Empty);
                await ReceiveAsync(socket, cancellationToken);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (_connected)
                {
                    LogDisconnected(_logger, BaseAddress, ex.Message);
                }
            }
            finally
            {
                if (_connected)
                {
                    _disconnectedSince = _time.GetUtcNow();
                }

                _connected = false;
                if (socket.State == WebSocketState.Open)
                {
                    using var close = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    try
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", close.Token);
                    }
                    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                    {
                        // The worker went away first.
                    }
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            await Task.Delay(backoff, _time, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }
    }

    private async Task ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            message.SetLength(0);
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            var bytes = message.GetBuffer().AsMemory(0, (int)message.Length);
            if (result.MessageType == WebSocketMessageType.Binary)
            {
                OnBinary(bytes.Span);
            }
            else
            {
                OnText(bytes.Span);
            }
        }
    }

    private void OnText(ReadOnlySpan<byte> text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text.ToArray());
        }
        catch (JsonException)
        {
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            var type = typeElement.GetString();
            var promptId = data.TryGetProperty("prompt_id", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            if (promptId is null)
            {
                return;
            }

            WorkerEvent? workerEvent = type switch
            {
                "execution_start" => new WorkerEvent(WorkerEventKind.Started, promptId),
                "execution_cached" => new WorkerEvent(WorkerEventKind.Cached, promptId) { Nodes = Strings(data, "nodes") },
                "executing" => data.TryGetProperty("node", out var node) && node.ValueKind == JsonValueKind.String
                    ? new WorkerEvent(WorkerEventKind.Executing, promptId) { Node = node.GetString() }
                    : new WorkerEvent(WorkerEventKind.Done, promptId),
                "progress" => new WorkerEvent(WorkerEventKind.Progress, promptId)
                {
                    Node = data.TryGetProperty("node", out var n) ? n.ToString() : null,
                    Value = data.TryGetProperty("value", out var v) && v.TryGetDouble(out var value) ? value : 0,
                    Max = data.TryGetProperty("max", out var m) && m.TryGetDouble(out var max) ? max : 0,
                },
                "executed" => new WorkerEvent(WorkerEventKind.Executed, promptId)
                {
                    Node = data.TryGetProperty("node", out var en) ? en.ToString() : null,
                    Files = data.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Object
                        ? ReadNodeFiles(en.ToString(), output) : [],
                },
                "execution_success" => new WorkerEvent(WorkerEventKind.Succeeded, promptId),
                "execution_error" when !IsBlockerMessage(data) => ErrorEvent(WorkerEventKind.Failed, promptId, data),
                "execution_interrupted" => ErrorEvent(WorkerEventKind.Interrupted, promptId, data),
                _ => null,
            };

            if (workerEvent is null)
            {
                return;
            }

            if (workerEvent.Kind is WorkerEventKind.Started or WorkerEventKind.Executing)
            {
                Volatile.Write(ref _currentPrompt, promptId);
            }

            Route(workerEvent);
        }
    }

    private void OnBinary(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 8)
        {
            return;
        }

        var type = BinaryPrimitives.ReadUInt32BigEndian(frame);
        if (type == 1)
        {
            var format = BinaryPrimitives.ReadUInt32BigEndian(frame[4..]);
            var prompt = Volatile.Read(ref _currentPrompt);
            if (prompt is not null)
            {
                Route(new WorkerEvent(WorkerEventKind.Preview, prompt) { Image = frame[8..].ToArray(), ImageType = format == 2 ? "image/png" : "image/jpeg" });
            }
        }
        else if (type == 4)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frame[4..]);
            if (length < 0 || 8 + length > frame.Length)
            {
                return;
            }

            using var metadata = JsonDocument.Parse(frame.Slice(8, length).ToArray());
            var prompt = metadata.RootElement.TryGetProperty("prompt_id", out var p) ? p.GetString() : Volatile.Read(ref _currentPrompt);
            var imageType = metadata.RootElement.TryGetProperty("image_type", out var t) ? t.GetString() : "image/jpeg";
            if (prompt is not null)
            {
                Route(new WorkerEvent(WorkerEventKind.Preview, prompt) { Image = frame[(8 + length)..].ToArray(), ImageType = imageType });
            }
        }
    }

    private void Route(WorkerEvent workerEvent)
    {
        if (_watches.TryGetValue(workerEvent.PromptId, out var channel))
        {
            channel.Writer.TryWrite(workerEvent);
        }
    }

    private static bool IsBlockerMessage(JsonElement data) =>
        data.TryGetProperty("exception_type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "ExecutionBlocked";

    private static WorkerEvent ErrorEvent(WorkerEventKind kind, string promptId, JsonElement data) => new(kind, promptId)
    {
        Node = data.TryGetProperty("node_id", out var node) ? node.ToString() : null,
        NodeType = data.TryGetProperty("node_type", out var type) ? type.ToString() : null,
        Message = data.TryGetProperty("exception_message", out var message) ? message.ToString() : null,
        ExceptionType = data.TryGetProperty("exception_type", out var exception) ? exception.ToString() : null,
    };

    private static List<string> Strings(JsonElement data, string name) =>
        data.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Select(item => item.ToString())]
            : [];

    private static List<WorkerFile> ReadFiles(JsonElement outputs)
    {
        var files = new List<WorkerFile>();
        if (outputs.ValueKind != JsonValueKind.Object)
        {
            return files;
        }

        foreach (var node in outputs.EnumerateObject())
        {
            if (node.Value.ValueKind == JsonValueKind.Object)
            {
                files.AddRange(ReadNodeFiles(node.Name, node.Value));
            }
        }

        return files;
    }

    /// <summary>Every list of <c>{filename, subfolder, type}</c> objects counts as files (images, gifs, audio, video...).</summary>
    private static List<WorkerFile> ReadNodeFiles(string nodeId, JsonElement output)
    {
        var files = new List<WorkerFile>();
        foreach (var kind in output.EnumerateObject())
        {
            if (kind.Value.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var item in kind.Value.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("filename", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    files.Add(new WorkerFile(
                        nodeId,
                        name.GetString()!,
                        item.TryGetProperty("subfolder", out var sub) ? sub.ToString() : "",
                        item.TryGetProperty("type", out var type) ? type.ToString() : "output"));
                }
            }
        }

        return files;
    }

    private static async Task<WorkerRejectedException> RejectionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var message = new StringBuilder();
            string? errorType = null;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                errorType = error.TryGetProperty("type", out var t) ? t.ToString() : null;
                message.Append(error.TryGetProperty("message", out var m) ? m.ToString() : "rejected");
                if (error.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.String && d.GetString()!.Length > 0)
                {
                    message.Append(": ").Append(d.GetString());
                }
            }

            string? nodeId = null;
            string? nodeType = null;
            if (root.TryGetProperty("node_errors", out var nodes) && nodes.ValueKind == JsonValueKind.Object)
            {
                foreach (var node in nodes.EnumerateObject())
                {
                    nodeId ??= node.Name;
                    nodeType ??= node.Value.TryGetProperty("class_type", out var c) ? c.ToString() : null;
                    if (node.Value.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var item in errors.EnumerateArray())
                        {
                            message.Append(message.Length > 0 ? "; " : "").Append($"node {node.Name}");
                            if (item.TryGetProperty("message", out var m))
                            {
                                message.Append(": ").Append(m.ToString());
                            }

                            if (item.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.String && d.GetString()!.Length > 0)
                            {
                                message.Append(" (").Append(d.GetString()).Append(')');
                            }
                        }
                    }
                }
            }

            return new WorkerRejectedException(message.Length > 0 ? message.ToString() : text) { ErrorType = errorType, NodeId = nodeId, NodeType = nodeType };
        }
        catch (JsonException)
        {
            return new WorkerRejectedException(text);
        }
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Debug, Message = "WebSocket to {Worker} connected")]
    private static partial void LogConnected(ILogger logger, Uri worker);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "WebSocket to {Worker} lost: {Error}")]
    private static partial void LogDisconnected(ILogger logger, Uri worker, string error);
}
