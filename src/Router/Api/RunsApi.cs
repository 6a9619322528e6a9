using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Api;

/// <summary><c>/v1/runs</c>: submit, read, list, cancel, follow and download runs.</summary>
internal static class RunsApi
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;
    public const int MaxIdempotencyKeyLength = 200;
    public const int MaxMetadataBytes = 16 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<RouterOptions>>().Value;
        var api = app.MapGroup("/v1/runs").WithTags("Runs").RequireAuthorization();

        api.MapPost("/", SubmitAsync)
            .WithName("SubmitRun")
            .WithSummary("Run an API-format ComfyUI graph")
            .WithDescription("Stores the run as queued and answers 202 with it. The same idempotencyKey (or Idempotency-Key header) returns the original run with 200.")
            .Accepts<SubmitRunRequest>("application/json");

        api.MapGet("/", ListAsync)
            .WithName("ListRuns")
            .WithSummary("List runs, newest first, optionally by status");

        api.MapGet("/{id}", GetAsync)
            .WithName("GetRun")
            .WithSummary("Get one run");

        api.MapDelete("/{id}", CancelAsync)
            .WithName("CancelRun")
            .WithSummary("Cancel a run: leaves our queue, is deleted from the worker's queue, or is interrupted on its worker");

        api.MapGet("/{id}/events", Events)
            .WithName("RunEvents")
            .WithSummary("Server-Sent Events of a run: the current state first, then queued/started/progress/preview/succeeded/failed/cancelled. Last-Event-ID resumes.");

        var preview = api.MapGet("/{id}/preview", Preview)
            .WithName("RunPreview")
            .WithSummary("The latest preview image of a run (or its first image output once finished)");
        if (options.PublicPreviews)
        {
            preview.AllowAnonymous();
        }

        api.MapGet("/{id}/outputs/{name}", OutputAsync)
            .WithName("RunOutput")
            .WithSummary("Download one output file of a run");

        return app;
    }

    internal static async Task<Results<Accepted<RunResponse>, Ok<RunResponse>, ProblemHttpResult>> SubmitAsync(
        HttpRequest request, RunService runs, IRunInputResolver inputs, SafeHttpDownloader downloader, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(Problems.Details(StatusCodes.Status400BadRequest, Problems.MalformedJson, "The body is not valid JSON",
                $"The request body could not be parsed as JSON: {ex.Message}", "body"));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Problems.Invalid("The body must be a JSON object: {\"workflow\": {...}, \"priority\"?, \"idempotencyKey\"?, \"metadata\"?}.", "body");
            }

            if (!TryGet(root, "workflow", out var workflow))
            {
                return Problems.Workflow("The body has no 'workflow' (an API-format graph: an object of nodes keyed by id).", "workflow");
            }

            var workflowText = workflow.GetRawText();
            if (CheckWorkflow(workflowText, out var graph) is { } problem)
            {
                return problem;
            }

            var priority = 0;
            if (TryGet(root, "priority", out var priorityElement) && priorityElement.ValueKind != JsonValueKind.Null
                && (priorityElement.ValueKind != JsonValueKind.Number || !priorityElement.TryGetInt32(out priority) || priority is < -1000 or > 1000))
            {
                return Problems.Invalid("'priority' must be a whole number from -1000 to 1000 (higher runs first).", "priority");
            }

            string? key = request.Headers["Idempotency-Key"];
            if (TryGet(root, "idempotencyKey", out var keyElement) && keyElement.ValueKind != JsonValueKind.Null)
            {
                if (keyElement.ValueKind != JsonValueKind.String)
                {
                    return Problems.Invalid("'idempotencyKey' must be a string.", "idempotencyKey");
                }

                key = keyElement.GetString();
            }

            if (key is not null && (key.Length == 0 || key.Length > MaxIdempotencyKeyLength))
            {
                return Problems.Invalid($"'idempotencyKey' must have 1 to {MaxIdempotencyKeyLength} characters.", "idempotencyKey");
            }

            string? metadata = null;
            if (TryGet(root, "metadata", out var metadataElement) && metadataElement.ValueKind != JsonValueKind.Null)
            {
                if (metadataElement.ValueKind != JsonValueKind.Object)
                {
                    return Problems.Invalid("'metadata' must be a JSON object.", "metadata");
                }

                metadata = metadataElement.GetRawText();
                if (metadata.Length > MaxMetadataBytes)
                {
                    return Problems.Invalid($"'metadata' must be at most {MaxMetadataBytes} bytes of JSON.", "metadata");
                }
            }

            RunWebhook? webhook = null;
            if (TryGet(root, "webhook", out var webhookElement) && webhookElement.ValueKind != JsonValueKind.Null)
            {
                var (parsed, webhookProblem) = await ParseWebhookAsync(webhookElement, downloader, cancellationToken);
                if (webhookProblem is not null)
                {
                    return webhookProblem;
                }

                webhook = parsed;
            }

            // Never send a run that would fail with value_not_in_list: refuse a graph whose models no worker has.
            var models = Scheduling.RunScheduler.ModelsOf(graph!);
            if (request.HttpContext.RequestServices.GetService<Scheduling.RunScheduler>() is { } scheduler
                && await scheduler.ReadinessAsync(null, models, cancellationToken) is { ModelsMissing: true } readiness)
            {
                request.HttpContext.Response.Headers.RetryAfter = "30";
                return TypedResults.Problem(Problems.Details(StatusCodes.Status503ServiceUnavailable, Problems.ModelUnavailable, "No worker has the models the workflow needs",
                    $"The run cannot be placed: {readiness.Reason}.", "workflow"));
            }

            IReadOnlyList<RunInput> prepared;
            try
            {
                prepared = await inputs.PrepareAsync(graph!, cancellationToken);
            }
            catch (InputRefusedException refused)
            {
                return Problems.Input(refused);
            }

            if (prepared.Count > 0)
            {
                // data: URIs were stored in the cache and replaced by cache: references.
                workflowText = graph!.ToJson();
            }

            var perKey = request.HttpContext.RequestServices.GetService<IOptions<Workflows.WorkflowRoutingOptions>>()?.Value.MaxPendingPerKey ?? 0;
            var command = new SubmitRunCommand(workflowText, priority, key, metadata)
            {
                Inputs = prepared,
                Webhook = webhook,
                Owner = RunOwner.Of(request.HttpContext),
                OwnerMaxPending = perKey,
                Models = models,
            };
            var result = await runs.SubmitAsync(command, cancellationToken);
            return SubmitResults.From(
                request.HttpContext, result, request.HttpContext.RequestServices.GetRequiredService<IOptions<RouterOptions>>().Value.PendingLimit, perKey);
        }
    }

    internal static async Task<Results<Ok<RunListResponse>, ProblemHttpResult>> ListAsync(
        RunService runs, string? status, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        RunStatus? filter = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!RunStatusExtensions.TryParseWire(status, out var parsed))
            {
                return Problems.Invalid($"Unknown status '{status}'; use one of {string.Join(", ", Enum.GetValues<RunStatus>().Select(s => s.ToWire()))}.", "status");
            }

            filter = parsed;
        }

        var size = limit ?? DefaultPageSize;
        if (size is < 1 or > MaxPageSize)
        {
            return Problems.Invalid($"'limit' must be from 1 to {MaxPageSize}.", "limit");
        }

        long? before = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (!RunCursor.TryDecode(cursor, out var bound))
            {
                return Problems.Cursor("Pass the 'nextCursor' of a previous page unchanged.");
            }

            before = bound;
        }

        var page = await runs.ListAsync(filter, size, before, cancellationToken);
        var next = page.NextBefore is { } n ? RunCursor.Encode(n) : null;
        var link = next is null
            ? null
            : $"/v1/runs?limit={size.ToString(CultureInfo.InvariantCulture)}&cursor={next}" + (filter is null ? "" : $"&status={filter.Value.ToWire()}");
        return TypedResults.Ok(new RunListResponse([.. page.Runs.Select(r => RunResponse.From(r))], next, link));
    }

    internal static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> GetAsync(
        string id, RunService runs, IOutputStore outputs, TimeProvider time, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(id, cancellationToken);
        return run is null ? Problems.UnknownRun(id) : TypedResults.Ok(RunResponse.From(run, outputs as IPresignedOutputStore, time.GetUtcNow()));
    }

    internal static async Task<Results<Ok<RunResponse>, Accepted<RunResponse>, ProblemHttpResult>> CancelAsync(
        string id, RunService runs, CancellationToken cancellationToken)
    {
        var result = await runs.CancelAsync(id, "cancelled by request", cancellationToken);
        return result.Outcome switch
        {
            CancelOutcome.NotFound => Problems.UnknownRun(id),
            CancelOutcome.AlreadyFinished => Problems.Finished(id, result.Run!.Status.ToWire()),
            CancelOutcome.Requested => TypedResults.Accepted($"/v1/runs/{id}", RunResponse.From(result.Run!)),
            _ => TypedResults.Ok(RunResponse.From(result.Run!)),
        };
    }

    internal static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> Events(
        string id, HttpRequest request, RunService runs, RunEventHub hub, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(id, cancellationToken);
        if (run is null)
        {
            return Problems.UnknownRun(id);
        }

        long? resumeAfter = null;
        string? lastEventId = request.Headers["Last-Event-ID"];
        if (string.IsNullOrEmpty(lastEventId))
        {
            lastEventId = request.Query["lastEventId"];
        }

        if (!string.IsNullOrEmpty(lastEventId))
        {
            if (!long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
            {
                return Problems.Invalid("Last-Event-ID must be the id of an event of this stream (a whole number).", "Last-Event-ID");
            }

            resumeAfter = after;
        }

        return TypedResults.ServerSentEvents(StreamAsync(id, resumeAfter, runs, hub, cancellationToken));
    }

    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(
        string id, long? resumeAfter, RunService runs, RunEventHub hub, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Subscribe before reading the state so nothing falls between the snapshot and the live feed.
        using var subscription = hub.Subscribe(id);
        long last;
        if (resumeAfter is { } after)
        {
            last = after;
            foreach (var missed in await runs.GetEventsAsync(id, after, cancellationToken))
            {
                yield return ToItem(missed);
                last = missed.Sequence;
                if (RunEventTypes.IsTerminal(missed.Type))
                {
                    yield break;
                }
            }

            var now = await runs.GetAsync(id, cancellationToken);
            if (now is null || (now.Status.IsTerminal() && last >= now.LastEventSequence))
            {
                yield break;
            }
        }
        else
        {
            var run = await runs.GetAsync(id, cancellationToken);
            if (run is null)
            {
                yield break;
            }

            yield return new SseItem<string>(JsonSerializer.Serialize(RunResponse.From(run), Json), RunEventTypes.State)
            {
                EventId = run.LastEventSequence.ToString(CultureInfo.InvariantCulture),
            };
            last = run.LastEventSequence;
            if (run.Status.IsTerminal())
            {
                yield break;
            }
        }

        while (await subscription.Reader.WaitToReadAsync(cancellationToken))
        {
            while (subscription.Reader.TryRead(out var live))
            {
                if (live.Sequence <= last)
                {
                    continue;
                }

                // A gap means the subscriber fell behind and lost some; fetch them from the store.
                var batch = live.Sequence == last + 1 ? [live] : await runs.GetEventsAsync(id, last, cancellationToken);
                foreach (var runEvent in batch)
                {
                    yield return ToItem(runEvent);
                    last = runEvent.Sequence;
                    if (RunEventTypes.IsTerminal(runEvent.Type))
                    {
                        yield break;
                    }
                }
            }
        }
    }

    internal static async Task<Results<FileContentHttpResult, FileStreamHttpResult, ProblemHttpResult>> Preview(
        string id, RunService runs, IOutputStore outputs, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(id, cancellationToken);
        if (run is null)
        {
            return Problems.UnknownRun(id);
        }

        if (runs.GetPreview(id) is { } preview)
        {
            return TypedResults.Bytes(preview.Bytes, preview.ContentType);
        }

        var image = run.Outputs.FirstOrDefault(o => o.ContentType.StartsWith("image/", StringComparison.Ordinal));
        if (image is not null && await outputs.OpenAsync(id, image.StorePath, cancellationToken) is { } stream)
        {
            return TypedResults.Stream(stream, image.ContentType);
        }

        return Problems.NoPreview(id);
    }

    /// <summary>A stable link: S3 outputs redirect (302) to a fresh presigned URL, local outputs are streamed.</summary>
    internal static async Task<Results<FileStreamHttpResult, RedirectHttpResult, ProblemHttpResult>> OutputAsync(
        string id, string name, RunService runs, IOutputStore outputs, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(id, cancellationToken);
        if (run is null)
        {
            return Problems.UnknownRun(id);
        }

        var output = run.Outputs.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.Ordinal));
        if (output is not null && outputs is IPresignedOutputStore presigner)
        {
            return TypedResults.Redirect(presigner.GetPresignedUrl(id, output.StorePath).ToString());
        }

        if (output is null || await outputs.OpenAsync(id, output.StorePath, cancellationToken) is not { } stream)
        {
            return Problems.UnknownOutput(id, name);
        }

        return TypedResults.Stream(stream, output.ContentType, fileDownloadName: output.Name);
    }

    private static async Task<(RunWebhook? Webhook, ProblemHttpResult? Problem)> ParseWebhookAsync(JsonElement element, SafeHttpDownloader downloader, CancellationToken cancellationToken)
    {
        const string Shape = "'webhook' must be {\"url\": \"https://...\", \"events\"?: [\"run.succeeded\", ...]}.";
        if (element.ValueKind != JsonValueKind.Object || !TryGet(element, "url", out var urlElement) || urlElement.ValueKind != JsonValueKind.String)
        {
            return (null, Problems.Invalid(Shape, "webhook.url"));
        }

        var events = new List<string?>();
        if (TryGet(element, "events", out var eventsElement) && eventsElement.ValueKind != JsonValueKind.Null)
        {
            if (eventsElement.ValueKind != JsonValueKind.Array)
            {
                return (null, Problems.Invalid(Shape, "webhook.events"));
            }

            foreach (var item in eventsElement.EnumerateArray())
            {
                events.Add(item.ValueKind == JsonValueKind.String ? item.GetString() : item.GetRawText());
            }
        }

        return await WebhookRequest.CheckAsync(urlElement.GetString(), events, "webhook", downloader, cancellationToken);
    }

    /// <summary>
    /// Checks a submitted graph the way ComfyUI would before it is queued (docs/comfyui-protocol.md §6): API
    /// format, node shape, links. A problem names the node and input. Graphs without a known output
    /// class pass: custom output nodes are only known to the worker's object_info.
    /// </summary>
    internal static ProblemHttpResult? CheckWorkflow(string workflowJson, out WorkflowGraph? graph)
    {
        try
        {
            graph = WorkflowGraph.Parse(workflowJson);
        }
        catch (WorkflowFormatException ex)
        {
            graph = null;
            if (ex.Detected == WorkflowFormat.UiWorkflow)
            {
                return Problems.UiFormat(ex.Message);
            }

            var field = ex.Detected == WorkflowFormat.RequestBody ? "workflow.prompt"
                : ex.NodeId is null ? "workflow"
                : ex.Member is null ? $"workflow.{ex.NodeId}" : $"workflow.{ex.NodeId}.{ex.Member}";
            return Problems.Workflow(ex.Message, field, ex.NodeId);
        }

        var issue = graph.Validate().FirstOrDefault(i => i.Code != WorkflowIssueCodes.NoOutputs);
        if (issue is null)
        {
            return null;
        }

        var at = issue.NodeId is null ? "workflow" : issue.InputName is null ? $"workflow.{issue.NodeId}" : $"workflow.{issue.NodeId}.inputs.{issue.InputName}";
        return Problems.Workflow(issue.Message, at, issue.NodeId);
    }

    private static SseItem<string> ToItem(RunEvent runEvent) =>
        new(runEvent.Data, runEvent.Type) { EventId = runEvent.Sequence.ToString(CultureInfo.InvariantCulture) };

    private static bool TryGet(JsonElement root, string name, out JsonElement value)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
