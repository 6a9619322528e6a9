using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Submissions;
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
            .WithSummary("List runs, newest first, optionally by status, workflow and owner (key)");

        api.MapGet("/{id}", GetAsync)
            .WithName("GetRun")
            .WithSummary("Get one run");

        api.MapDelete("/{id}", CancelAsync)
            .WithName("CancelRun")
            .WithSummary("Cancel a run: leaves our queue, is deleted from the worker's queue, or is interrupted on its worker");

        api.MapPost("/{id}/rerun", RerunAsync)
            .WithName("RerunRun")
            .WithSummary("Submit the run's graph again (same priority and metadata; a workflow run stays a run of its workflow) as a new run owned by the caller");

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
        HttpRequest request, RunSubmission submission, CancellationToken cancellationToken)
    {
        SubmitRunRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<SubmitRunRequest>(request.Body, Json, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(Problems.Details(StatusCodes.Status400BadRequest, Problems.MalformedJson, "The body is not valid JSON",
                $"The request body could not be parsed as JSON: {ex.Message}", "body"));
        }

        if (body is null)
        {
            return Problems.Invalid("The body must be a JSON object: {\"workflow\": {...}, \"priority\"?, \"idempotencyKey\"?, \"metadata\"?}.", "body");
        }

        if (body.ToCommand(request.Headers["Idempotency-Key"], RunOwner.Of(request.HttpContext), out var command) is { } problem)
        {
            return problem;
        }

        var outcome = await submission.SubmitAsync(command, cancellationToken);
        return SubmitResults.From(request.HttpContext, outcome, refused =>
        {
            if (refused.Status != SubmitStatus.Unavailable)
            {
                return SubmitResults.Problem(refused.Problem!);
            }

            request.HttpContext.Response.Headers.RetryAfter = "30";
            return TypedResults.Problem(Problems.Details(StatusCodes.Status503ServiceUnavailable, Problems.ModelUnavailable, "No worker has the models the workflow needs",
                $"The run cannot be placed: {refused.Readiness!.Reason}.", "workflow"));
        });
    }

    internal static async Task<Results<Accepted<RunResponse>, Ok<RunResponse>, ProblemHttpResult>> RerunAsync(
        string id, HttpContext context, RunService runs, RunSubmission submission, CancellationToken cancellationToken)
    {
        if (await runs.GetAsync(id, cancellationToken) is not { } run)
        {
            return Problems.UnknownRun(id);
        }

        // The stored graph has the inputs already bound; a workflow run's rerun is a run of the same workflow with those inputs.
        var command = new SubmitRun { Graph = run.Workflow is { } stored ? JsonNode.Parse(stored) : null, Workflow = run.Deployment, Priority = run.Priority, Metadata = run.Metadata, Owner = RunOwner.Of(context) };
        var outcome = await submission.SubmitAsync(command, cancellationToken);
        return SubmitResults.From(context, outcome, refused => run.Deployment is { } workflow
            ? WorkflowsApi.Refused(context, workflow, refused)
            : refused.Problem is { } problem
                ? SubmitResults.Problem(problem)
                : TypedResults.Problem(Problems.Details(StatusCodes.Status503ServiceUnavailable, Problems.ModelUnavailable, "No worker has the models the workflow needs",
                    $"The run cannot be placed: {refused.Readiness?.Reason}.", "workflow")));
    }

    internal static async Task<Results<Ok<RunListResponse>, ProblemHttpResult>> ListAsync(
        RunService runs, string? status, string? workflow, string? key, int? limit, string? cursor, CancellationToken cancellationToken)
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

        var query = new RunQuery(filter, string.IsNullOrEmpty(workflow) ? null : workflow, string.IsNullOrEmpty(key) ? null : key);
        var page = await runs.ListAsync(query, size, before, cancellationToken);
        var next = page.NextBefore is { } n ? RunCursor.Encode(n) : null;
        var link = next is null
            ? null
            : $"/v1/runs?limit={size.ToString(CultureInfo.InvariantCulture)}&cursor={next}"
                + (filter is null ? "" : $"&status={filter.Value.ToWire()}")
                + (query.Workflow is null ? "" : $"&workflow={Uri.EscapeDataString(query.Workflow)}")
                + (query.Owner is null ? "" : $"&key={Uri.EscapeDataString(query.Owner)}");
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

            last = runs.LastEventSequence(run);
            yield return new SseItem<string>(JsonSerializer.Serialize(RunResponse.From(run), Json), RunEventTypes.State)
            {
                EventId = last.ToString(CultureInfo.InvariantCulture),
            };
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

                // A gap means the subscriber fell behind and lost some, or numbers were skipped (a restart): fetch
                // what there is. An event another replica published is not stored yet: it comes from the feed only.
                var batch = live.Sequence == last + 1 ? [live] : WithLive(await runs.GetEventsAsync(id, last, cancellationToken), live);
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

    private static IReadOnlyList<RunEvent> WithLive(IReadOnlyList<RunEvent> fetched, RunEvent live) =>
        fetched.Count > 0 && fetched[^1].Sequence >= live.Sequence ? fetched : [.. fetched, live];

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

    private static SseItem<string> ToItem(RunEvent runEvent) =>
        new(runEvent.Data, runEvent.Type) { EventId = runEvent.Sequence.ToString(CultureInfo.InvariantCulture) };
}
