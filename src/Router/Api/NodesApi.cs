using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Api;

/// <summary>
/// <c>/v1/nodes</c>: the live view of every worker, and (for administrators) adding, cordoning and
/// removing workers. Workers from the configuration, the servers file or the cluster are read-only
/// here except for cordoning the first two.
/// </summary>
internal static class NodesApi
{
    private const int MaxPageSize = 1000;

    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/nodes").WithTags("Nodes").RequireAuthorization();
        api.MapGet("/", List)
            .WithName("ListNodes")
            .WithSummary("Every worker: address, source, health (active/passive), phase, queue, current run, GPU, last error; filter with phase, source, q; page with offset and limit (X-Total-Count)");
        api.MapPost("/", AddAsync)
            .WithName("AddNode")
            .WithSummary("Add a ComfyUI worker {url, labels?, maxQueue?}, probed first unless ?probe=false; kept in the router database")
            .RequireAuthorization(RouterAuthentication.AdminPolicy);
        api.MapPatch("/{id}", PatchAsync)
            .WithName("CordonNode")
            .WithSummary("{\"cordoned\": true|false}: a cordoned worker takes nothing new and finishes what it has")
            .RequireAuthorization(RouterAuthentication.AdminPolicy);
        api.MapDelete("/{id}", RemoveAsync)
            .WithName("RemoveNode")
            .WithSummary("Remove a worker added through the API: at once when idle or with ?force=true (204), else drained first (202)")
            .RequireAuthorization(RouterAuthentication.AdminPolicy);
        return app;
    }

    internal static Results<Ok<IReadOnlyList<NodeResponse>>, ProblemHttpResult> List(
        HttpResponse response, WorkerRegistry registry, CheckpointTracker checkpoints, IOptions<RouterOptions> options, TimeProvider time,
        string? phase, string? source, string? q, int? offset, int? limit)
    {
        if (offset is < 0)
        {
            return Problems.Invalid("'offset' must not be negative.", "offset");
        }

        if (limit is < 1 or > MaxPageSize)
        {
            return Problems.Invalid($"'limit' must be from 1 to {MaxPageSize}.", "limit");
        }

        var now = time.GetUtcNow();
        IEnumerable<WorkerState> workers = registry.Workers;
        if (!string.IsNullOrEmpty(phase))
        {
            workers = workers.Where(w => string.Equals(w.Phase(now), phase, StringComparison.OrdinalIgnoreCase));
        }

        if (!string.IsNullOrEmpty(source))
        {
            workers = workers.Where(w => string.Equals(w.Endpoint.Source, source, StringComparison.OrdinalIgnoreCase));
        }

        if (!string.IsNullOrEmpty(q))
        {
            workers = workers.Where(w => w.BaseAddress.ToString().Contains(q, StringComparison.OrdinalIgnoreCase)
                || w.Endpoint.Labels.Any(l => l.Key.Contains(q, StringComparison.OrdinalIgnoreCase) || l.Value.Contains(q, StringComparison.OrdinalIgnoreCase)));
        }

        var matching = workers.ToList();
        response.Headers["X-Total-Count"] = matching.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        IReadOnlyList<NodeResponse> nodes = [.. matching
            .Skip(offset ?? 0)
            .Take(limit ?? int.MaxValue)
            .Select(w => NodeResponse.From(w, now, options.Value.MaxQueuePerWorker, checkpoints.LastOn(w.BaseAddress)))];
        return TypedResults.Ok(nodes);
    }

    internal static async Task<Results<Created<NodeResponse>, ProblemHttpResult>> AddAsync(
        AddNodeRequest? body, bool? probe, NodeAdministration nodes, WorkerRegistry registry, CheckpointTracker checkpoints,
        IOptions<RouterOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body is null || string.IsNullOrWhiteSpace(body.Url))
        {
            return Problems.Invalid("The body must be {\"url\": \"http://host:8188\", \"labels\"?: {...}, \"maxQueue\"?: n}.", "url");
        }

        if (body.Url.Contains('[', StringComparison.Ordinal) || body.Url.Contains(',', StringComparison.Ordinal))
        {
            return Problems.Invalid("Add one worker per request: 'url' must be a single address, without ranges or lists.", "url");
        }

        Uri url;
        try
        {
            url = NodeAddressParser.Expand(body.Url.Trim()).Single();
        }
        catch (NodeAddressException ex)
        {
            return Problems.Invalid(ex.Message, "url");
        }

        if (body.MaxQueue is < 0 or > 1000)
        {
            return Problems.Invalid("'maxQueue' must be from 0 to 1000.", "maxQueue");
        }

        var labels = body.Labels ?? [];
        if (labels.Any(l => string.IsNullOrWhiteSpace(l.Key) || l.Value is null))
        {
            return Problems.Invalid("Every label needs a non-empty name and a string value.", "labels");
        }

        if (registry.Find(url.ToString()) is { } existing)
        {
            return Problems.NodeAlreadyThere(url.ToString(), existing.Endpoint.Source);
        }

        if (probe != false && await nodes.ProbeAsync(url, cancellationToken) is { } problem)
        {
            return Problems.NotComfyUi(problem);
        }

        var node = new StoredNode(url, new Dictionary<string, string>(labels, StringComparer.Ordinal), body.MaxQueue, false, false, time.GetUtcNow());
        if (!await nodes.AddAsync(node, cancellationToken))
        {
            return Problems.NodeAlreadyThere(url.ToString(), NodeSources.Api);
        }

        var worker = registry.Find(url.ToString())!;
        var response = NodeResponse.From(worker, time.GetUtcNow(), options.Value.MaxQueuePerWorker, checkpoints.LastOn(url));
        return TypedResults.Created($"/v1/nodes/{response.Id}", response);
    }

    internal static async Task<Results<Ok<NodeResponse>, ProblemHttpResult>> PatchAsync(
        string id, PatchNodeRequest? body, NodeAdministration nodes, WorkerRegistry registry, CheckpointTracker checkpoints,
        IOptions<RouterOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (registry.FindById(id) is not { } worker)
        {
            return Problems.UnknownNode(id);
        }

        if (body?.Cordoned is not { } cordoned)
        {
            return Problems.Invalid("The body must be {\"cordoned\": true|false}.", "cordoned");
        }

        if (worker.Endpoint.Source == NodeSources.Kubernetes)
        {
            return Problems.ReadOnlyNode(worker.BaseAddress.ToString(), worker.Endpoint.Source, "change its ComfyNode resource instead.");
        }

        if (worker.Draining && !cordoned)
        {
            return Problems.ReadOnlyNode(worker.BaseAddress.ToString(), worker.Endpoint.Source, "it is being drained for removal and cannot be uncordoned.");
        }

        await nodes.SetCordonedAsync(worker, cordoned, cancellationToken);
        return TypedResults.Ok(NodeResponse.From(worker, time.GetUtcNow(), options.Value.MaxQueuePerWorker, checkpoints.LastOn(worker.BaseAddress)));
    }

    internal static async Task<Results<NoContent, Accepted<NodeResponse>, ProblemHttpResult>> RemoveAsync(
        string id, bool? force, NodeAdministration nodes, WorkerRegistry registry, CheckpointTracker checkpoints,
        IOptions<RouterOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (registry.FindById(id) is not { } worker)
        {
            return Problems.UnknownNode(id);
        }

        if (worker.Endpoint.Source != NodeSources.Api)
        {
            var how = worker.Endpoint.Source switch
            {
                NodeSources.Config => "remove it from Router:Nodes (COMFY_ROUTER__NODES) instead.",
                NodeSources.File => "remove it from the servers file (Router:ServersFile) instead.",
                _ => "delete its ComfyNode resource instead.",
            };
            return Problems.ReadOnlyNode(worker.BaseAddress.ToString(), worker.Endpoint.Source, how);
        }

        if (await nodes.RemoveAsync(worker, force == true, cancellationToken))
        {
            return TypedResults.NoContent();
        }

        return TypedResults.Accepted($"/v1/nodes/{id}", NodeResponse.From(worker, time.GetUtcNow(), options.Value.MaxQueuePerWorker, checkpoints.LastOn(worker.BaseAddress)));
    }
}
