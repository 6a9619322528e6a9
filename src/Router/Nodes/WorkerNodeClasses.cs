using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Which node classes each worker has, from its <c>GET /object_info</c>: a run goes only to workers
/// that have every class its graph uses, and a class no worker has is refused at submit. Read when a
/// worker appears or comes back healthy (it may have restarted with other custom nodes) and every
/// <c>ModelRefreshInterval</c>; ComfyUI builds the document slowly, so it is never read per request.
/// Identical documents (a homogeneous fleet) are kept once.
/// </summary>
internal sealed partial class WorkerNodeClasses(
    WorkerRegistry registry,
    HealthProber prober,
    IHttpClientFactory httpClients,
    IOptions<RouterOptions> routerOptions,
    IOptions<WorkflowRoutingOptions> options,
    TimeProvider time,
    ILogger<WorkerNodeClasses> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Uri, ClassSet> _sets = new();
    private readonly ConcurrentDictionary<string, ObjectInfoDocument> _documents = new(StringComparer.Ordinal);
    private TaskCompletionSource _refreshNow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _mergeGate = new();
    private volatile MergedObjectInfo? _merged;

    /// <summary>Raised after a worker's classes were read or a worker's entry was dropped.</summary>
    public event EventHandler? Changed;

    /// <summary>
    /// Whether the worker has every class of <paramref name="classes"/>. A worker whose classes are not
    /// read yet waits for its read (a few hundred milliseconds after it turns healthy) while other
    /// workers' are known, so a run needing a custom class never lands on it unread; when no worker's
    /// classes are known (a fleet that does not answer <c>/object_info</c>), nothing is held back.
    /// </summary>
    public bool Has(WorkerState worker, IReadOnlyList<string> classes)
    {
        if (classes.Count == 0)
        {
            return true;
        }

        if (!_sets.TryGetValue(worker.BaseAddress, out var set))
        {
            return _sets.IsEmpty;
        }

        foreach (var name in classes)
        {
            if (!set.Document.Classes.Contains(name))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The classes of <paramref name="classes"/> that no worker has, when every healthy worker's classes
    /// are known (otherwise nothing is reported missing: an unread worker may have them).
    /// </summary>
    public IReadOnlyList<string> MissingEverywhere(IReadOnlyList<string> classes)
    {
        // Asked on every submit: a fleet whose first healthy, read worker has every class answers
        // without listing the fleet (nothing can be missing everywhere then).
        foreach (var worker in registry.Workers)
        {
            if (!worker.Removed && worker.ActiveHealth == HealthState.Healthy && _sets.TryGetValue(worker.BaseAddress, out var first))
            {
                if (classes.All(first.Document.Classes.Contains))
                {
                    return [];
                }

                break;
            }
        }

        var healthy = registry.Workers.Where(w => !w.Removed && w.ActiveHealth == HealthState.Healthy).ToList();
        if (classes.Count == 0 || healthy.Count == 0)
        {
            return [];
        }

        var sets = new List<ObjectInfoDocument>(healthy.Count);
        foreach (var worker in healthy)
        {
            if (!_sets.TryGetValue(worker.BaseAddress, out var set))
            {
                RefreshSoon();
                return [];
            }

            sets.Add(set.Document);
        }

        return [.. classes.Where(c => !sets.Any(d => d.Classes.Contains(c)))];
    }

    /// <summary>
    /// ComfyUI's <c>/object_info</c> for the whole fleet: every healthy worker's classes, and for a
    /// combo input (model lists, samplers) the union of every worker's choices. Built once per change.
    /// </summary>
    public MergedObjectInfo Merged()
    {
        if (_merged is { } cached)
        {
            return cached;
        }

        lock (_mergeGate)
        {
            return _merged ??= Merge();
        }
    }

    private MergedObjectInfo Merge()
    {
        var merged = new JsonObject();
        var healthy = registry.Workers.Where(w => !w.Removed && w.ActiveHealth == HealthState.Healthy);
        foreach (var document in healthy.Select(w => _sets.TryGetValue(w.BaseAddress, out var set) ? set.Document : null).OfType<ObjectInfoDocument>().Distinct())
        {
            foreach (var (name, info) in document.Body)
            {
                if (merged[name] is not JsonObject existing)
                {
                    merged[name] = info?.DeepClone();
                }
                else if (info is JsonObject other)
                {
                    UnionCombos(existing, other);
                }
            }
        }

        return new MergedObjectInfo(
            merged.ToJsonString(),
            merged.ToDictionary(p => p.Key, p => p.Value?.ToJsonString() ?? "null", StringComparer.Ordinal));
    }

    public void RefreshSoon() => _refreshNow.TrySetResult();

    /// <summary>
    /// Reads one worker's classes now. A worker read before is most often sending the same document again (ComfyUI's
    /// is megabytes with custom nodes): it is only hashed as it streams in, and kept whole and parsed only when no
    /// worker sent it before.
    /// </summary>
    public async Task RefreshAsync(WorkerState worker, CancellationToken cancellationToken)
    {
        try
        {
            using var http = WorkerReads.Client(httpClients);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(routerOptions.Value.WorkerRequestTimeout);
            var address = new Uri(worker.BaseAddress, "object_info");
            if (_sets.ContainsKey(worker.BaseAddress) && _documents.TryGetValue(await HashOfAsync(http, address, limit.Token), out var known))
            {
                Record(worker.BaseAddress, known);
                return;
            }

            Record(worker.BaseAddress, await http.GetByteArrayAsync(address, limit.Token));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or System.Text.Json.JsonException or InvalidOperationException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogRefreshFailed(logger, worker.Name, ex.Message);
        }
    }

    /// <summary>Stores a worker's <c>/object_info</c> body as read (also how benches and tests seed it).</summary>
    public void Record(Uri worker, byte[] objectInfo) =>
        Record(worker, _documents.GetOrAdd(Convert.ToHexString(SHA256.HashData(objectInfo)), _ => ObjectInfoDocument.Parse(objectInfo)));

    private void Record(Uri worker, ObjectInfoDocument document)
    {
        _sets[worker] = new ClassSet(document, time.GetUtcNow());
        Forget();
    }

    /// <summary>The SHA-256 of the body at <paramref name="address"/> (as <see cref="Record(Uri, byte[])"/> keys documents), read through one pooled buffer.</summary>
    private static async Task<string> HashOfAsync(HttpClient http, Uri address, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.Changed += (_, _) =>
        {
            Forget();
            RefreshSoon();
        };
        prober.Recovered += (sender, worker) =>
        {
            _sets.TryRemove(worker.BaseAddress, out _);
            Forget();
            RefreshSoon();
        };
        while (!stoppingToken.IsCancellationRequested)
        {
            _refreshNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var now = time.GetUtcNow();
            var due = registry.Workers
                .Where(w => w.ActiveHealth == HealthState.Healthy)
                .Where(w => !_sets.TryGetValue(w.BaseAddress, out var set) || now - set.ReadAt >= options.Value.ModelRefreshInterval)
                .ToList();
            await WorkerReads.ForEachAsync(due, RefreshAsync, stoppingToken);
            var dropped = false;
            foreach (var gone in _sets.Keys.Where(k => registry.Find(k.ToString()) is null).ToList())
            {
                dropped |= _sets.TryRemove(gone, out _);
            }

            foreach (var (hash, document) in _documents)
            {
                if (!_sets.Values.Any(s => ReferenceEquals(s.Document, document)))
                {
                    _documents.TryRemove(hash, out _);
                }
            }

            if (dropped)
            {
                Forget();
            }

            try
            {
                // Workers turn healthy on their own schedule: look again soon while some are unread.
                var wait = registry.Workers.Any(w => w.ActiveHealth == HealthState.Healthy && !_sets.ContainsKey(w.BaseAddress))
                    ? TimeSpan.FromMilliseconds(250)
                    : options.Value.ModelRefreshInterval;
                await _refreshNow.Task.WaitAsync(wait, time, stoppingToken);
            }
            catch (TimeoutException)
            {
                // Next round.
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private void Forget()
    {
        _merged = null;
        Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Adds <paramref name="other"/>'s combo choices to <paramref name="existing"/>'s (both <c>[[choices], {...}]</c> and <c>["COMBO", {"options": [...]}]</c>).</summary>
    private static void UnionCombos(JsonObject existing, JsonObject other)
    {
        foreach (var category in (string[])["required", "optional"])
        {
            if (existing["input"]?[category] is not JsonObject mine || other["input"]?[category] is not JsonObject theirs)
            {
                continue;
            }

            foreach (var (input, spec) in theirs)
            {
                if (mine[input] is JsonArray { Count: > 0 } ours && spec is JsonArray { Count: > 0 } their
                    && ChoicesOf(ours) is { } target && ChoicesOf(their) is { } source)
                {
                    var seen = target.Select(c => c?.ToJsonString()).ToHashSet(StringComparer.Ordinal);
                    foreach (var choice in source)
                    {
                        if (seen.Add(choice?.ToJsonString()))
                        {
                            target.Add(choice?.DeepClone());
                        }
                    }
                }
            }
        }
    }

    private static JsonArray? ChoicesOf(JsonArray spec) =>
        spec[0] as JsonArray ?? (spec[0] is JsonValue v && v.TryGetValue<string>(out var type) && type == "COMBO" && spec.Count > 1 ? spec[1]?["options"] as JsonArray : null);

    [LoggerMessage(EventId = EventIds.WorkerNodeClassesRefreshFailed, Level = LogLevel.Warning, Message = "Reading the node classes (/object_info) of {Worker} failed: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string worker, string error);

    private sealed record ClassSet(ObjectInfoDocument Document, DateTimeOffset ReadAt);

    /// <summary>One distinct <c>/object_info</c> body and its class names.</summary>
    private sealed class ObjectInfoDocument
    {
        private ObjectInfoDocument(JsonObject body)
        {
            Body = body;
            Classes = body.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        }

        public JsonObject Body { get; }

        public HashSet<string> Classes { get; }

        public static ObjectInfoDocument Parse(byte[] bytes) =>
            new(JsonNode.Parse(bytes) as JsonObject ?? throw new InvalidOperationException("/object_info is not a JSON object."));
    }
}
