using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Submissions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.ComfyRouterApi;

/// <summary>
/// Comfy Router's routes, so its clients can point at this router unchanged (docs/comfy-router.md):
/// <c>POST /workflow</c> builds the graph from the payload (<see cref="ComfyRouterGraph"/>) and goes
/// through the one submission path; <c>GET /workflow/{id}</c> and <c>GET /preview/{id}</c> read the
/// run, its progress and preview events and its stored images; <c>/cluster/nodes</c> is the node
/// administration of <c>/v1/nodes</c>; <c>GET /health_check</c> answers <c>ok</c>. Errors are
/// <c>{"message": ...}</c> as Comfy Router answers them. <c>/preview/{id}</c> and
/// <c>/health_check</c> need no credentials, as in Comfy Router; the rest take the router's.
/// </summary>
internal static class ComfyRouterApi
{
    public static IEndpointRouteBuilder MapComfyRouterApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").WithTags("Comfy Router").ExcludeFromDescription();
        api.MapPost("/workflow", RunWorkflowAsync).RequireAuthorization();
        api.MapGet("/workflow/{id}", (string id, RunService runs, IOutputStore outputs, CancellationToken ct) => ResultAsync(id, runs, outputs, withImages: true, ct))
            .RequireAuthorization();
        api.MapGet("/preview/{id}", (string id, RunService runs, IOutputStore outputs, CancellationToken ct) => ResultAsync(id, runs, outputs, withImages: false, ct))
            .AllowAnonymous();
        api.MapGet("/cluster/nodes", ListNodes).RequireAuthorization();
        api.MapPost("/cluster/nodes", AddNodeAsync).RequireAuthorization(RouterAuthentication.AdminPolicy);
        api.MapPost("/cluster/nodes/delete", RemoveNodeAsync).RequireAuthorization(RouterAuthentication.AdminPolicy);
        api.MapGet("/health_check", () => TypedResults.Text("ok", "text/plain")).AllowAnonymous();
        return app;
    }

    internal static async Task<IResult> RunWorkflowAsync(HttpRequest request, RunSubmission submission, CancellationToken cancellationToken)
    {
        JsonObject graph;
        try
        {
            var body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken);
            graph = ComfyRouterGraph.Build(body as JsonObject);
        }
        catch (JsonException ex)
        {
            return Message(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {ex.Message}");
        }
        catch (ComfyRouterPayloadException ex)
        {
            return Message(StatusCodes.Status400BadRequest, ex.Message);
        }

        var outcome = await submission.SubmitAsync(new SubmitRun { Graph = graph, Owner = RunOwner.Of(request.HttpContext) }, cancellationToken);
        switch (outcome.Status)
        {
            case SubmitStatus.Created or SubmitStatus.Replayed:
                return Json(new JsonObject { ["id"] = outcome.Run!.Id });
            case SubmitStatus.PendingLimitReached or SubmitStatus.OwnerLimitReached or SubmitStatus.DeploymentLimitReached:
                request.HttpContext.Response.Headers.RetryAfter = "5";
                return Message(StatusCodes.Status429TooManyRequests, "No node available");
            case SubmitStatus.Unavailable:
                request.HttpContext.Response.Headers.RetryAfter = "30";
                return Message(StatusCodes.Status503ServiceUnavailable, $"No worker can run this workflow: {outcome.Readiness?.Reason}.");
            default:
                var problem = outcome.Problem;
                return Message(StatusCodes.Status400BadRequest, problem is null ? "The workflow cannot run." : $"{problem.Message} ({problem.Field})");
        }
    }

    /// <summary>
    /// Comfy Router's <c>WorkflowResult</c>: <c>pending</c> with the run's place among the queued runs,
    /// <c>running</c> with the last progress fraction and the latest preview, <c>done</c> with the
    /// images' bytes (an empty list for <c>/preview</c>), or <c>error</c> with why.
    /// </summary>
    internal static async Task<IResult> ResultAsync(string id, RunService runs, IOutputStore outputs, bool withImages, CancellationToken cancellationToken)
    {
        if (await runs.GetAsync(id, cancellationToken) is not { } run)
        {
            return Message(StatusCodes.Status404NotFound, "Not found: task not found");
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            switch (run.Status)
            {
                case RunStatus.Queued or RunStatus.Dispatching:
                    writer.WriteString("status", "pending");
                    writer.WriteNumber("data", await PositionAsync(run, runs, cancellationToken));
                    break;
                case RunStatus.Running:
                    writer.WriteString("status", "running");
                    writer.WriteStartObject("data");
                    writer.WriteNumber("progress", await ProgressAsync(run, runs, cancellationToken));
                    writer.WriteStartArray("previews");
                    if (runs.GetPreview(run.Id) is { } preview)
                    {
                        WriteBytes(writer, preview.Bytes.Span);
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    break;
                case RunStatus.Succeeded:
                    writer.WriteString("status", "done");
                    writer.WriteStartArray("data");
                    foreach (var output in withImages ? run.Outputs.Where(o => o.ContentType.StartsWith("image/", StringComparison.Ordinal)) : [])
                    {
                        await using var stream = await outputs.OpenAsync(run.Id, output.StorePath, cancellationToken);
                        if (stream is null)
                        {
                            continue;
                        }

                        using var bytes = new MemoryStream();
                        await stream.CopyToAsync(bytes, cancellationToken);
                        WriteBytes(writer, bytes.GetBuffer().AsSpan(0, (int)bytes.Length));
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    writer.WriteString("status", "error");
                    writer.WriteString("data", run.Failure?.Message ?? run.Reason ?? run.Status.ToString().ToLowerInvariant());
                    break;
            }

            writer.WriteEndObject();
        }

        return TypedResults.Bytes(buffer.WrittenMemory.ToArray(), "application/json");
    }

    internal static IResult ListNodes(WorkerRegistry registry, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var nodes = new JsonArray();
        foreach (var worker in registry.Workers)
        {
            var status = worker.Phase(now) switch
            {
                "Idle" => "idle",
                "Busy" => "busy",
                _ => "offline",
            };
            nodes.Add(new JsonObject
            {
                ["url"] = worker.BaseAddress.ToString(),
                ["status"] = new JsonObject { ["status"] = status, ["cache"] = new JsonObject() },
            });
        }

        return Json(new JsonObject { ["nodes"] = nodes });
    }

    /// <summary>Adds the worker as <c>POST /v1/nodes</c> does (probed first, kept in the router database); one already there is left as it is.</summary>
    internal static async Task<IResult> AddNodeAsync(HttpRequest request, NodeAdministration nodes, WorkerRegistry registry, TimeProvider time, CancellationToken cancellationToken)
    {
        var (url, error) = await ReadNodeUrlAsync(request, cancellationToken);
        if (url is null)
        {
            return error!;
        }

        if (registry.Find(url.ToString()) is null)
        {
            if (await nodes.ProbeAsync(url, cancellationToken) is { } problem)
            {
                return Message(StatusCodes.Status400BadRequest, problem);
            }

            await nodes.AddAsync(new StoredNode(url, new Dictionary<string, string>(StringComparer.Ordinal), null, false, false, time.GetUtcNow()), cancellationToken);
        }

        return Json(null);
    }

    /// <summary>Removes an API-added worker as <c>DELETE /v1/nodes/{id}</c> does: at once when idle, else after its runs finish. An unknown address is not an error.</summary>
    internal static async Task<IResult> RemoveNodeAsync(HttpRequest request, NodeAdministration nodes, WorkerRegistry registry, CancellationToken cancellationToken)
    {
        var (url, error) = await ReadNodeUrlAsync(request, cancellationToken);
        if (url is null)
        {
            return error!;
        }

        if (registry.Find(url.ToString()) is { } worker)
        {
            if (worker.Endpoint.Source != NodeSources.Api)
            {
                return Message(StatusCodes.Status400BadRequest, $"{worker.BaseAddress} comes from the '{worker.Endpoint.Source}' source, not the API; remove it there.");
            }

            await nodes.RemoveAsync(worker, force: false, cancellationToken);
        }

        return Json(null);
    }

    private static async Task<(Uri? Url, IResult? Error)> ReadNodeUrlAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        const string Shape = "The body must be {\"url\": \"http://host:8188\"}.";
        string? text;
        try
        {
            text = (await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken))?["url"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : null;
        }
        catch (JsonException)
        {
            text = null;
        }

        if (string.IsNullOrWhiteSpace(text) || text.Contains('[', StringComparison.Ordinal) || text.Contains(',', StringComparison.Ordinal))
        {
            return (null, Message(StatusCodes.Status400BadRequest, Shape));
        }

        try
        {
            return (NodeAddressParser.Expand(text.Trim()).Single(), null);
        }
        catch (NodeAddressException ex)
        {
            return (null, Message(StatusCodes.Status400BadRequest, ex.Message));
        }
    }

    /// <summary>Where the run stands among the queued runs: those that go before it (higher priority, or the same and older).</summary>
    private static async Task<int> PositionAsync(RunRecord run, RunService runs, CancellationToken cancellationToken)
    {
        if (run.Status != RunStatus.Queued)
        {
            return 0;
        }

        var unfinished = await runs.ListUnfinishedAsync(cancellationToken);
        return unfinished.Count(r => r.Status == RunStatus.Queued && r.Id != run.Id
            && (r.Priority > run.Priority || (r.Priority == run.Priority && r.Sequence < run.Sequence)));
    }

    /// <summary>The fraction of the last progress event (ComfyUI's value / max for the node running), 0 before the first.</summary>
    private static async Task<double> ProgressAsync(RunRecord run, RunService runs, CancellationToken cancellationToken)
    {
        var last = (await runs.GetEventsAsync(run.Id, 0, cancellationToken)).LastOrDefault(e => e.Type == RunEventTypes.Progress);
        return last is not null && JsonNode.Parse(last.Data)?["fraction"] is JsonValue fraction && fraction.TryGetValue<double>(out var value) ? value : 0;
    }

    /// <summary>Bytes as a list of numbers, as serde writes a <c>Vec&lt;u8&gt;</c>.</summary>
    private static void WriteBytes(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes)
    {
        writer.WriteStartArray();
        foreach (var b in bytes)
        {
            writer.WriteNumberValue(b);
        }

        writer.WriteEndArray();
    }

    private static ContentHttpResult Message(int status, string message) =>
        TypedResults.Text(new JsonObject { ["message"] = message }.ToJsonString(), "application/json", statusCode: status);

    private static ContentHttpResult Json(JsonNode? body) =>
        TypedResults.Text(body?.ToJsonString() ?? "null", "application/json");
}
