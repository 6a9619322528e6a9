using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// ComfyUI's read-only documents (<c>/models</c>, <c>/models/{folder}</c>, <c>/experiment/models…</c>, <c>/embeddings</c>,
/// <c>/system_stats</c>, <c>/extensions</c>) for the whole fleet: read from every healthy worker once,
/// merged, and kept until the fleet changes (a worker added, removed, back healthy, or its node
/// classes read again). A client call never costs a request to every worker.
/// </summary>
internal sealed class FleetDocuments
{
    private readonly WorkerRegistry _registry;
    private readonly IHttpClientFactory _httpClients;
    private readonly RouterOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _documents = new(StringComparer.Ordinal);

    public FleetDocuments(WorkerRegistry registry, HealthProber prober, WorkerNodeClasses classes, IHttpClientFactory httpClients, IOptions<RouterOptions> options)
    {
        _registry = registry;
        _httpClients = httpClients;
        _options = options.Value;
        registry.Changed += (_, _) => _documents.Clear();
        prober.Recovered += (_, _) => _documents.Clear();
        classes.Changed += (_, _) => _documents.Clear();
    }

    /// <summary>The merged document at <paramref name="path"/> as JSON text; null when no healthy worker answered it.</summary>
    public async Task<string?> GetAsync(string path, Func<IReadOnlyList<JsonNode>, JsonNode> merge, CancellationToken cancellationToken)
    {
        var entry = _documents.GetOrAdd(path, p => new Lazy<Task<string?>>(() => ReadAsync(p, merge)));
        var text = await entry.Value.WaitAsync(cancellationToken);
        if (text is null)
        {
            // Nothing answered: ask again next time rather than keep the miss.
            _documents.TryRemove(new KeyValuePair<string, Lazy<Task<string?>>>(path, entry));
        }

        return text;
    }

    /// <summary>Lists as one list, each entry once, in the order first seen.</summary>
    public static JsonNode Union(IReadOnlyList<JsonNode> lists)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new JsonArray();
        foreach (var item in lists.OfType<JsonArray>().SelectMany(l => l))
        {
            if (seen.Add(item?.ToJsonString() ?? "null"))
            {
                result.Add(item?.DeepClone());
            }
        }

        return result;
    }

    /// <summary>
    /// Lists of objects as one list, one entry per <c>name</c>, the first worker's (<c>/experiment/models</c>: a folder
    /// key; <c>/experiment/models/{folder}</c>: a model file, with its place and size on that worker).
    /// </summary>
    public static JsonNode UnionByName(IReadOnlyList<JsonNode> lists)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new JsonArray();
        foreach (var item in lists.OfType<JsonArray>().SelectMany(l => l).OfType<JsonObject>())
        {
            if (item["name"]?.GetValueKind() == System.Text.Json.JsonValueKind.String && seen.Add(item["name"]!.GetValue<string>()))
            {
                result.Add(item.DeepClone());
            }
        }

        return result;
    }

    /// <summary><c>/system_stats</c>: the first worker's <c>system</c> section and every worker's devices.</summary>
    public static JsonNode SystemStats(IReadOnlyList<JsonNode> documents)
    {
        var system = documents.Select(d => d["system"]).FirstOrDefault(s => s is not null)?.DeepClone();
        var devices = new JsonArray();
        foreach (var device in documents.Select(d => d["devices"]).OfType<JsonArray>().SelectMany(d => d))
        {
            devices.Add(device?.DeepClone());
        }

        return new JsonObject { ["system"] = system, ["devices"] = devices };
    }

    private async Task<string?> ReadAsync(string path, Func<IReadOnlyList<JsonNode>, JsonNode> merge)
    {
        var healthy = _registry.Workers.Where(w => !w.Removed && w.ActiveHealth == HealthState.Healthy).ToList();
        var documents = new JsonNode?[healthy.Count];
        await WorkerReads.ForEachAsync(Enumerable.Range(0, healthy.Count), async (i, _) => documents[i] = await ReadOneAsync(healthy[i], path), CancellationToken.None);
        var answered = documents.OfType<JsonNode>().ToList();
        return answered.Count == 0 ? null : merge(answered).ToJsonString();
    }

    private async Task<JsonNode?> ReadOneAsync(WorkerState worker, string path)
    {
        try
        {
            using var http = _httpClients.CreateClient(HealthProber.HttpClientName);
            using var limit = new CancellationTokenSource(_options.WorkerRequestTimeout);
            using var response = await http.GetAsync(new Uri(worker.BaseAddress, path.TrimStart('/')), limit.Token);
            return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync(limit.Token)) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
