using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Submissions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// ComfyUI's own API, served by the router for the whole fleet, at the root and under <c>/api/</c> as
/// ComfyUI serves it: <c>POST /prompt</c> goes through the one submission path (the run's id is the
/// prompt id), <c>/ws</c> streams each client's prompts, <c>/history</c>, <c>/queue</c>,
/// <c>/interrupt</c> and <c>/view</c> show and act on the caller's runs only, uploads go to the input
/// cache, and the read-only documents are the fleet's, merged (docs/comfyui-api.md).
/// </summary>
internal static class ComfyApi
{
    /// <summary>
    /// ComfyUI's two roots (<c>/</c> and <c>/api/</c>), each with the ComfyUI routes' credentials: a header,
    /// the <c>token</c> query parameter or the web UI's session, or none with <c>Router:ComfyApiAnonymous</c>.
    /// </summary>
    internal static IEnumerable<RouteGroupBuilder> MapComfyGroups(IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<RouterOptions>>().Value;
        foreach (var prefix in (string[])["", "/api"])
        {
            var group = app.MapGroup(prefix).WithTags("ComfyUI").ExcludeFromDescription().WithMetadata(new QueryTokenAllowed(), new BrowserSessionAllowed());
            yield return options.ComfyApiAnonymous ? group.AllowAnonymous() : group.RequireAuthorization();
        }
    }

    public static IEndpointRouteBuilder MapComfyApi(this IEndpointRouteBuilder app)
    {
        foreach (var group in MapComfyGroups(app))
        {
            group.MapPost("/prompt", PostPromptAsync);
            group.MapGet("/prompt", GetPromptAsync);
            group.MapGet("/queue", GetQueueAsync);
            group.MapPost("/queue", PostQueueAsync);
            group.MapPost("/interrupt", InterruptAsync);
            group.MapPost("/free", FreeAsync);
            group.MapGet("/history", GetHistoryAsync);
            group.MapGet("/history/{promptId}", GetHistoryEntryAsync);
            group.MapPost("/history", PostHistoryAsync);
            group.MapGet("/view", ViewAsync);
            group.MapPost("/upload/image", UploadImageAsync);
            group.MapPost("/upload/mask", UploadMaskAsync);
            group.MapGet("/ws", WebSocketAsync);
            group.MapGet("/object_info", (WorkerNodeClasses classes) => Json(classes.Merged().Json));
            group.MapGet("/object_info/{nodeClass}", (string nodeClass, WorkerNodeClasses classes) =>
                Json(classes.Merged().Classes.TryGetValue(nodeClass, out var info) ? $"{{{JsonSerializer.Serialize(nodeClass)}:{info}}}" : "{}"));
            group.MapGet("/models", (FleetDocuments fleet, CancellationToken ct) => FleetAsync(fleet, "models", FleetDocuments.Union, ct));
            group.MapGet("/models/{folder}", (string folder, FleetDocuments fleet, CancellationToken ct) =>
                OutputNames.IsSafe(folder) ? FleetAsync(fleet, "models/" + folder, FleetDocuments.Union, ct) : Task.FromResult<IResult>(NotFound()));
            group.MapGet("/experiment/models", (FleetDocuments fleet, CancellationToken ct) => FleetAsync(fleet, "experiment/models", FleetDocuments.UnionByName, ct));
            group.MapGet("/experiment/models/{folder}", (string folder, FleetDocuments fleet, CancellationToken ct) =>
                OutputNames.IsSafe(folder) ? FleetAsync(fleet, "experiment/models/" + folder, FleetDocuments.UnionByName, ct) : Task.FromResult<IResult>(NotFound()));
            group.MapGet("/embeddings", (FleetDocuments fleet, CancellationToken ct) => FleetAsync(fleet, "embeddings", FleetDocuments.Union, ct));
            group.MapGet("/extensions", (FleetDocuments fleet, CancellationToken ct) => FleetAsync(fleet, "extensions", FleetDocuments.Union, ct));
            group.MapGet("/system_stats", (FleetDocuments fleet, CancellationToken ct) => FleetAsync(fleet, "system_stats", FleetDocuments.SystemStats, ct));
            group.MapGet("/features", (IOptions<RouterOptions> router) => Json(Features(router.Value).ToJsonString()));
        }

        return app;
    }

    /// <summary>The router's own feature flags (<c>GET /features</c> and the WebSocket reply).</summary>
    internal static JsonObject Features(RouterOptions options) =>
        new() { ["supports_preview_metadata"] = true, ["max_upload_size"] = (double)options.MaxRequestBodyBytes };

    internal static async Task<IResult> PostPromptAsync(
        HttpRequest request, RunSubmission submission, ComfyPrompts prompts, InputCache cache, RunService runs, CancellationToken cancellationToken)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException ex)
        {
            return Error(StatusCodes.Status400BadRequest, "invalid_prompt", "The body is not valid JSON", ex.Message);
        }

        if (body?["prompt"] is not JsonObject prompt)
        {
            return Error(StatusCodes.Status400BadRequest, "no_prompt", "No prompt provided", "No prompt provided");
        }

        var extraData = body["extra_data"] as JsonObject ?? [];
        var clientId = StringOf(body["client_id"]) ?? StringOf(extraData["client_id"]);
        if (clientId is not null)
        {
            extraData["client_id"] = clientId;
        }

        var chosenId = StringOf(body["prompt_id"]);
        var runId = chosenId ?? Guid.NewGuid().ToString("D");
        if (prompts.Find(runId) is not null)
        {
            return Error(StatusCodes.Status400BadRequest, "invalid_prompt_id", $"The prompt id '{runId}' is in use.", "prompt_id");
        }

        UseUploads(prompt, cache);
        var owner = RunOwner.Of(request.HttpContext);
        var tracked = prompts.Track(runId, clientId, owner);

        // Kestrel completes a request once its answer is written: only then does the client hear of the prompt.
        request.HttpContext.Response.OnCompleted(static state =>
        {
            ((ComfyPrompt)state).Answered();
            return Task.CompletedTask;
        }, tracked);
        var outcome = await submission.SubmitAsync(
            new SubmitRun
            {
                Graph = prompt,
                RunId = runId,
                RunIdIsNew = chosenId is null,
                Owner = owner,

                // Stored with the client id, so every replica knows whose prompt it is; when the prompt is
                // posted, the worker session's own client_id (beside extra_data) replaces it, as in ComfyUI.
                ExtraData = extraData.Count == 0 ? null : extraData.ToJsonString(),

                // ComfyUI puts a "front" prompt at the head of its queue: here it outranks the caller's other prompts.
                Priority = body["front"]?.GetValueKind() == JsonValueKind.True ? SubmitRun.MaxPriority : 0,
            },
            cancellationToken);
        if (outcome.Status is not SubmitStatus.Created || outcome.Run is not { } run)
        {
            prompts.Forget(runId);
            return Refused(request.HttpContext, outcome, prompt);
        }

        return Json(new JsonObject { ["prompt_id"] = run.Id, ["number"] = run.Sequence, ["node_errors"] = new JsonObject() }.ToJsonString());
    }

    internal static async Task<IResult> GetPromptAsync(HttpContext context, RunService runs, ComfyPrompts prompts, CancellationToken cancellationToken)
    {
        var owner = RunOwner.Of(context);
        var mine = (await QueuedAsync(owner, runs, prompts, cancellationToken)).Count;
        return Json(new JsonObject { ["exec_info"] = new JsonObject { ["queue_remaining"] = mine } }.ToJsonString());
    }

    internal static async Task<IResult> GetQueueAsync(HttpContext context, RunService runs, ComfyPrompts prompts, CancellationToken cancellationToken)
    {
        var owner = RunOwner.Of(context);
        var running = new JsonArray();
        var pending = new JsonArray();
        foreach (var run in await QueuedAsync(owner, runs, prompts, cancellationToken))
        {
            (run.Status == RunStatus.Running ? running : pending).Add(ComfyHistory.QueueItem(run, withExtraData: true));
        }

        return Json(new JsonObject { ["queue_running"] = running, ["queue_pending"] = pending }.ToJsonString());
    }

    /// <summary>
    /// The caller's runs in ComfyUI's queue: unfinished, less those whose client was told they ended (their worker ended
    /// them; the router is storing their outputs), which ComfyUI too drops from its queue at their end.
    /// </summary>
    private static async Task<List<RunRecord>> QueuedAsync(string? owner, RunService runs, ComfyPrompts prompts, CancellationToken cancellationToken) =>
        [.. (await runs.ListUnfinishedAsync(cancellationToken)).Where(r => r.Owner == owner && !prompts.EndSent(r.Id))];

    /// <summary>
    /// Run <paramref name="id"/> as the store has it once its end, if its client was told it already, is written too
    /// (waiting at most <c>Router:RunTimeout</c>, then as the store has it then).
    /// </summary>
    private static async Task<RunRecord?> EndedRunAsync(string id, RunService runs, ComfyPrompts prompts, RouterOptions options, CancellationToken cancellationToken)
    {
        if (prompts.EndSent(id))
        {
            await prompts.WaitForEndsAsync(null, [id], options.RunTimeout, cancellationToken);
        }

        return await runs.GetAsync(id, cancellationToken);
    }

    /// <summary><c>{"delete": [ids]}</c> cancels those of the caller's runs; <c>{"clear": true}</c> cancels the caller's runs that have not started.</summary>
    internal static async Task<IResult> PostQueueAsync(HttpRequest request, RunService runs, ComfyPrompts prompts, CancellationToken cancellationToken)
    {
        var body = await ReadObjectAsync(request, cancellationToken);
        var owner = RunOwner.Of(request.HttpContext);
        if (body?["clear"]?.GetValueKind() == JsonValueKind.True)
        {
            foreach (var run in (await QueuedAsync(owner, runs, prompts, cancellationToken)).Where(r => r.Status != RunStatus.Running))
            {
                await runs.CancelAsync(run.Id, "cleared from the queue (POST /queue)", cancellationToken);
            }
        }

        if (body?["delete"] is JsonArray delete)
        {
            foreach (var id in delete.Select(StringOf).OfType<string>())
            {
                if (!prompts.EndSent(id) && await runs.GetAsync(id, cancellationToken) is { } run && run.Owner == owner && !run.Status.IsTerminal())
                {
                    await runs.CancelAsync(id, "deleted from the queue (POST /queue)", cancellationToken);
                }
            }
        }

        return TypedResults.Ok();
    }

    /// <summary>With <c>prompt_id</c>: that run, if it is the caller's and on a worker; without: every run of the caller's that is running.</summary>
    internal static async Task<IResult> InterruptAsync(HttpRequest request, RunService runs, ComfyPrompts prompts, CancellationToken cancellationToken)
    {
        var body = await ReadObjectAsync(request, cancellationToken);
        var owner = RunOwner.Of(request.HttpContext);
        if (StringOf(body?["prompt_id"]) is { } id)
        {
            if (!prompts.EndSent(id) && await runs.GetAsync(id, cancellationToken) is { } run && run.Owner == owner && run.Status is RunStatus.Running or RunStatus.Dispatching)
            {
                await runs.CancelAsync(id, "interrupted (POST /interrupt)", cancellationToken);
            }

            return TypedResults.Ok();
        }

        foreach (var run in (await QueuedAsync(owner, runs, prompts, cancellationToken)).Where(r => r.Status == RunStatus.Running))
        {
            await runs.CancelAsync(run.Id, "interrupted (POST /interrupt)", cancellationToken);
        }

        return TypedResults.Ok();
    }

    /// <summary>
    /// <c>{"unload_models": bool, "free_memory": bool}</c> to every healthy worker at once (the editor's "unload models"
    /// button): the fleet is shared, so only administrators (or anyone, with <c>Router:ComfyApiAnonymous</c>) may; others
    /// get 403. A worker that does not answer is skipped: freeing memory is advice, not a state.
    /// </summary>
    internal static async Task<IResult> FreeAsync(
        HttpRequest request, WorkerRegistry registry, IHttpClientFactory httpClients, IOptions<RouterOptions> options, CancellationToken cancellationToken)
    {
        var context = request.HttpContext;
        if (!RouterAuthentication.IsComfyAdministrator(context, options.Value))
        {
            return Json(new JsonObject { ["error"] = "Freeing memory acts on every worker of the fleet: it needs an administrator's credentials." }.ToJsonString(), StatusCodes.Status403Forbidden);
        }

        var body = await ReadObjectAsync(request, cancellationToken);
        var unload = body?["unload_models"]?.GetValueKind() == JsonValueKind.True;
        var free = body?["free_memory"]?.GetValueKind() == JsonValueKind.True;
        if (!unload && !free)
        {
            return TypedResults.Ok();
        }

        var healthy = registry.Workers.Where(w => !w.Removed && w.ActiveHealth == HealthState.Healthy).ToList();
        await Task.WhenAll(healthy.Select(async worker =>
        {
            var client = new ComfyClient(httpClients.CreateClient(HealthProber.HttpClientName), worker.BaseAddress, new ComfyClientOptions { RequestTimeout = options.Value.WorkerRequestTimeout });
            try
            {
                await client.FreeAsync(unload, free, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or ComfyHttpException or TimeoutException)
            {
                // The next call tries again; the worker's health is the prober's to judge.
            }
        }));
        return TypedResults.Ok();
    }

    /// <summary>
    /// The caller's finished runs, oldest first (the newest <c>max_items</c> of them when given), once those whose client
    /// was told they ended are written as ended too.
    /// </summary>
    internal static async Task<IResult> GetHistoryAsync(
        HttpContext context, RunService runs, ComfyPrompts prompts, IOptions<RouterOptions> options, int? max_items, CancellationToken cancellationToken)
    {
        var owner = RunOwner.Of(context);
        await prompts.WaitForEndsAsync(owner, null, options.Value.RunTimeout, cancellationToken);
        var limit = max_items is > 0 ? max_items.Value : int.MaxValue;
        var found = new List<RunRecord>();
        long? before = null;
        do
        {
            var page = await runs.ListAsync(new RunQuery(Owner: owner), 100, before, cancellationToken);
            found.AddRange(page.Runs.Where(r => r.Owner == owner && r.Status.IsTerminal()).Take(limit - found.Count));
            before = page.NextBefore;
        }
        while (before is not null && found.Count < limit);

        var history = new JsonObject();
        foreach (var run in Enumerable.Reverse(found))
        {
            history[run.Id] = ComfyHistory.Entry(run);
        }

        return Json(history.ToJsonString());
    }

    internal static async Task<IResult> GetHistoryEntryAsync(
        string promptId, HttpContext context, RunService runs, ComfyPrompts prompts, IOptions<RouterOptions> options, CancellationToken cancellationToken)
    {
        var run = await EndedRunAsync(promptId, runs, prompts, options.Value, cancellationToken);
        return run is not null && run.Owner == RunOwner.Of(context) && run.Status.IsTerminal()
            ? Json(new JsonObject { [run.Id] = ComfyHistory.Entry(run) }.ToJsonString())
            : Json("{}");
    }

    /// <summary>
    /// <c>{"clear": true}</c> deletes the caller's finished runs, <c>{"delete": [ids]}</c> those of them named; runs not
    /// finished stay (ComfyUI's history holds only finished prompts). Unlike ComfyUI, the runs' stored outputs go too:
    /// <c>/view</c> finds a file through its run, so nothing could reach them any more.
    /// </summary>
    internal static async Task<IResult> PostHistoryAsync(HttpRequest request, RunService runs, CancellationToken cancellationToken)
    {
        var body = await ReadObjectAsync(request, cancellationToken);
        var owner = RunOwner.Of(request.HttpContext);
        if (body?["clear"]?.GetValueKind() == JsonValueKind.True)
        {
            await runs.DeleteFinishedAsync(owner, null, cancellationToken);
        }

        if (body?["delete"] is JsonArray delete && delete.Select(StringOf).OfType<string>().ToList() is { Count: > 0 } ids)
        {
            await runs.DeleteFinishedAsync(owner, ids, cancellationToken);
        }

        return TypedResults.Ok();
    }

    /// <summary>
    /// A file <c>/history</c> or an <c>executed</c> message named: <c>type=input</c> from the input cache;
    /// otherwise the subfolder is the prompt id and the file one of that run's outputs (from the output
    /// store, or from its worker while the run has not stored it yet). Names are checked against a safe
    /// alphabet first, so no path is ever built from the request.
    /// </summary>
    internal static async Task<IResult> ViewAsync(
        HttpContext context, RunService runs, ComfyPrompts prompts, IOutputStore outputs, InputCache cache, IHttpClientFactory httpClients,
        IOptions<RouterOptions> options, string? filename, string? subfolder, string? type, CancellationToken cancellationToken)
    {
        if (!OutputNames.IsSafe(filename))
        {
            return NotFound();
        }

        if (type == "input")
        {
            return string.IsNullOrEmpty(subfolder) && cache.PathOf(filename!) is { } path
                ? TypedResults.PhysicalFile(path, OutputNames.ContentType(filename!))
                : NotFound();
        }

        if (!OutputNames.IsSafe(subfolder) || await EndedRunAsync(subfolder!, runs, prompts, options.Value, cancellationToken) is not { } run || run.Owner != RunOwner.Of(context))
        {
            return NotFound();
        }

        if (run.Outputs.FirstOrDefault(o => o.Name == filename) is { } output)
        {
            if (outputs is IPresignedOutputStore presigner)
            {
                return TypedResults.Redirect(presigner.GetPresignedUrl(run.Id, output.StorePath).ToString());
            }

            return await outputs.OpenAsync(run.Id, output.StorePath, cancellationToken) is { } stream
                ? TypedResults.Stream(stream, output.ContentType)
                : NotFound();
        }

        if (prompts.Find(run.Id)?.WorkerFile(filename!) is { } file && run.Worker is { } worker)
        {
            var client = new ComfyClient(httpClients.CreateClient(HealthProber.HttpClientName), new Uri(worker), new ComfyClientOptions { RequestTimeout = options.Value.WorkerRequestTimeout });
            try
            {
                var content = await client.ViewAsync(file, cancellationToken);
                context.Response.RegisterForDisposeAsync(content);
                return TypedResults.Stream(content.Content, content.ContentType ?? OutputNames.ContentType(filename!));
            }
            catch (Exception ex) when (ex is HttpRequestException or ComfyHttpException or TimeoutException)
            {
                return NotFound();
            }
        }

        return NotFound();
    }

    /// <summary>Stores the file in the input cache; the answer's <c>name</c> (the file's content hash) is what a later prompt's LoadImage names.</summary>
    internal static async Task<IResult> UploadImageAsync(HttpRequest request, InputCache cache, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return TypedResults.Text("400: Bad Request", statusCode: StatusCodes.Status400BadRequest);
        }

        var form = await request.ReadFormAsync(cancellationToken);
        if (form.Files["image"] is not { } image)
        {
            return TypedResults.Text("400: Bad Request", statusCode: StatusCodes.Status400BadRequest);
        }

        CachedInput cached;
        try
        {
            await using var stream = image.OpenReadStream();
            cached = await cache.PutAsync("image", stream, Path.GetExtension(image.FileName), null, false, cancellationToken);
        }
        catch (InputRefusedException refused)
        {
            return TypedResults.Text(refused.Message, statusCode: StatusCodes.Status400BadRequest);
        }

        return Json(new JsonObject { ["name"] = cached.FileName, ["subfolder"] = "", ["type"] = "input" }.ToJsonString());
    }

    /// <summary>
    /// ComfyUI's mask editor: the <c>image</c> field's alpha channel replaces that of the image <c>original_ref</c>
    /// (<c>{filename, subfolder, type}</c>) names, an upload (<c>type=input</c>) or one of the caller's outputs
    /// (<c>subfolder</c> = the prompt id). The result, RGBA with the original's text chunks, goes into the input
    /// cache like <c>/upload/image</c>. Only 8-bit, non-interlaced PNGs are read; anything else is a 400 saying so.
    /// </summary>
    internal static async Task<IResult> UploadMaskAsync(
        HttpRequest request, InputCache cache, RunService runs, IOutputStore outputs, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return TypedResults.Text("400: Bad Request", statusCode: StatusCodes.Status400BadRequest);
        }

        var form = await request.ReadFormAsync(cancellationToken);
        if (form.Files["image"] is not { } image || ParseReference(form["original_ref"].ToString()) is not { } reference)
        {
            return TypedResults.Text("400: Bad Request", statusCode: StatusCodes.Status400BadRequest);
        }

        var original = await ReadOriginalAsync(request.HttpContext, reference, cache, runs, outputs, cancellationToken);
        if (original is null)
        {
            return TypedResults.Text($"400: original image '{reference.Filename}' not found", statusCode: StatusCodes.Status400BadRequest);
        }

        byte[] composed;
        try
        {
            using var maskBytes = new MemoryStream();
            await image.CopyToAsync(maskBytes, cancellationToken);
            composed = PngImage.Decode(original).WithAlphaOf(PngImage.Decode(maskBytes.ToArray())).Encode();
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.Text($"400: {ex.Message}", statusCode: StatusCodes.Status400BadRequest);
        }

        CachedInput cached;
        try
        {
            using var stream = new MemoryStream(composed);
            cached = await cache.PutAsync("image", stream, ".png", null, false, cancellationToken);
        }
        catch (InputRefusedException refused)
        {
            return TypedResults.Text(refused.Message, statusCode: StatusCodes.Status400BadRequest);
        }

        return Json(new JsonObject { ["name"] = cached.FileName, ["subfolder"] = "", ["type"] = "input" }.ToJsonString());
    }

    internal static async Task WebSocketAsync(HttpContext context, ComfyPrompts prompts, IOptions<RouterOptions> options)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var clientId = context.Request.Query["clientId"].ToString();
        if (string.IsNullOrEmpty(clientId))
        {
            clientId = Guid.NewGuid().ToString("N");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new ComfyClientConnection(clientId, RunOwner.Of(context), socket);
        prompts.Connect(connection);
        try
        {
            await connection.RunAsync(Features(options.Value), context.RequestAborted);
        }
        finally
        {
            prompts.Disconnect(connection);
        }
    }

    /// <summary>A LoadImage naming a file uploaded through <c>/upload/image</c> gets it from the cache, on whichever worker runs it.</summary>
    private static void UseUploads(JsonObject prompt, InputCache cache)
    {
        foreach (var (_, node) in prompt)
        {
            if (node is JsonObject { } n && StringOf(n["class_type"]) is "LoadImage" or "LoadImageMask"
                && n["inputs"] is JsonObject inputs && StringOf(inputs["image"]) is { } name
                && !RunInputResolver.IsProvided(name) && OutputNames.IsSafe(name) && cache.PathOf(name) is not null)
            {
                inputs["image"] = RunInputResolver.CachePrefix + name;
            }
        }
    }

    private sealed record ImageReference(string Filename, string Subfolder, string Type);

    private static ImageReference? ParseReference(string json)
    {
        try
        {
            return JsonNode.Parse(json) is JsonObject o && StringOf(o["filename"]) is { } filename && OutputNames.IsSafe(filename)
                ? new ImageReference(filename, StringOf(o["subfolder"]) ?? "", StringOf(o["type"]) ?? "output")
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The bytes of an upload or of one of the caller's stored outputs, as <c>/view</c> would serve them; null when there is none.</summary>
    private static async Task<byte[]?> ReadOriginalAsync(
        HttpContext context, ImageReference reference, InputCache cache, RunService runs, IOutputStore outputs, CancellationToken cancellationToken)
    {
        if (reference.Type == "input")
        {
            return reference.Subfolder.Length == 0 && cache.PathOf(reference.Filename) is { } path
                ? await File.ReadAllBytesAsync(path, cancellationToken)
                : null;
        }

        if (!OutputNames.IsSafe(reference.Subfolder) || await runs.GetAsync(reference.Subfolder, cancellationToken) is not { } run
            || run.Owner != RunOwner.Of(context) || run.Outputs.FirstOrDefault(o => o.Name == reference.Filename) is not { } output)
        {
            return null;
        }

        await using var stream = await outputs.OpenAsync(run.Id, output.StorePath, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>A refused submission in ComfyUI's shape: <c>{"error": {...}, "node_errors": {...}}</c>.</summary>
    private static ContentHttpResult Refused(HttpContext context, SubmitRunOutcome outcome, JsonObject prompt)
    {
        switch (outcome.Status)
        {
            case SubmitStatus.Unavailable:
                context.Response.Headers.RetryAfter = "30";
                return Error(StatusCodes.Status503ServiceUnavailable, "unavailable", $"No worker can run this prompt: {outcome.Readiness?.Reason}.", "");
            case SubmitStatus.PendingLimitReached or SubmitStatus.OwnerLimitReached or SubmitStatus.DeploymentLimitReached:
                context.Response.Headers.RetryAfter = "5";
                return Error(StatusCodes.Status429TooManyRequests, "queue_full", $"The queue is full ({outcome.Limit} prompts may wait).", "");
        }

        var problem = outcome.Problem!;
        if (problem.Kind == SubmitProblemKind.UnknownNodeClass)
        {
            return Error(StatusCodes.Status400BadRequest, "invalid_prompt", $"Cannot execute because node {problem.NodeClass} does not exist.", $"Node ID '#{problem.NodeId}'");
        }

        if (problem.NodeId is not { } nodeId)
        {
            return Error(StatusCodes.Status400BadRequest, problem.Field == "id" ? "invalid_prompt_id" : "invalid_prompt", problem.Message, problem.Field);
        }

        var nodeErrors = new JsonObject
        {
            [nodeId] = new JsonObject
            {
                ["errors"] = new JsonArray(new JsonObject
                {
                    ["type"] = problem.Kind == SubmitProblemKind.InputRefused ? "invalid_input_file" : "invalid_input",
                    ["message"] = problem.Message,
                    ["details"] = problem.Field,
                    ["extra_info"] = new JsonObject(),
                }),
                ["dependent_outputs"] = new JsonArray(),
                ["class_type"] = StringOf(prompt[nodeId]?["class_type"]),
            },
        };
        return Error(StatusCodes.Status400BadRequest, "prompt_outputs_failed_validation", "Prompt outputs failed validation", "", nodeErrors);
    }

    private static ContentHttpResult Error(int status, string type, string message, string details, JsonObject? nodeErrors = null) =>
        Json(
            new JsonObject
            {
                ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["details"] = details, ["extra_info"] = new JsonObject() },
                ["node_errors"] = nodeErrors ?? [],
            }.ToJsonString(),
            status);

    private static async Task<IResult> FleetAsync(FleetDocuments fleet, string path, Func<IReadOnlyList<JsonNode>, JsonNode> merge, CancellationToken cancellationToken) =>
        await fleet.GetAsync(path, merge, cancellationToken) is { } text ? Json(text) : NotFound();

    private static async Task<JsonObject?> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return request.ContentLength == 0 ? null : await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static ContentHttpResult Json(string text, int status = StatusCodes.Status200OK) =>
        TypedResults.Text(text, "application/json", statusCode: status);

    private static ContentHttpResult NotFound() => TypedResults.Text("404: Not Found", statusCode: StatusCodes.Status404NotFound);
}
