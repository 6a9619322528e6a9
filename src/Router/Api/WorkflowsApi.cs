using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Api;

/// <summary><c>/v1/workflows</c>: list and describe workflows, their OpenAPI documents, and typed runs.</summary>
internal static class WorkflowsApi
{
    public static IEndpointRouteBuilder MapWorkflowsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/workflows").WithTags("Workflows").RequireAuthorization();

        api.MapGet("/", List)
            .WithName("ListWorkflows")
            .WithSummary("Every workflow (presets, files, WorkflowDeployments) with inputs, outputs, models and readiness");

        api.MapGet("/{name}", Get)
            .WithName("GetWorkflow")
            .WithSummary("One workflow: inputs, outputs, models, readiness");

        api.MapGet("/{name}/openapi.json", OpenApi)
            .WithName("WorkflowOpenApi")
            .WithSummary("An OpenAPI 3 document for the workflow: its run operation with the inputs as the request schema")
            .ExcludeFromDescription();

        // Described per workflow in the main document (WorkflowsDocumentTransformer), not as a generic operation.
        api.MapPost("/{name}/runs", SubmitAsync)
            .WithName("RunWorkflow")
            .ExcludeFromDescription()
            .DisableAntiforgery();

        return app;
    }

    internal static Ok<WorkflowResponse[]> List(WorkflowCatalog catalog, RunScheduler scheduler) =>
        TypedResults.Ok(catalog.All.Select(w => WorkflowResponse.From(w, ReadinessOf(w, scheduler))).ToArray());

    internal static Results<Ok<WorkflowResponse>, ProblemHttpResult> Get(string name, WorkflowCatalog catalog, RunScheduler scheduler) =>
        catalog.Find(name) is { } workflow ? TypedResults.Ok(WorkflowResponse.From(workflow, ReadinessOf(workflow, scheduler))) : UnknownWorkflow(name);

    internal static IResult OpenApi(string name, WorkflowCatalog catalog) =>
        catalog.Find(name) is { } workflow
            ? Results.Text(WorkflowOpenApi.Document(workflow).ToJsonString(), "application/json")
            : UnknownWorkflow(name);

    internal static async Task<Results<Accepted<RunResponse>, Ok<RunResponse>, ProblemHttpResult>> SubmitAsync(
        string name,
        HttpRequest request,
        WorkflowCatalog catalog,
        RunScheduler scheduler,
        RunService runs,
        IRunInputResolver inputs,
        SafeHttpDownloader downloader,
        IOptions<WorkflowRoutingOptions> options,
        IOptions<RouterOptions> routerOptions,
        CancellationToken cancellationToken)
    {
        if (catalog.Find(name) is not { } workflow)
        {
            return UnknownWorkflow(name);
        }

        if (!workflow.IsValid)
        {
            var invalid = Problems.Details(StatusCodes.Status409Conflict, Problems.WorkflowInvalid, "The workflow is Invalid",
                $"Workflow '{name}' cannot run: {string.Join(" ", workflow.Problems)}", "name");
            invalid.Extensions["problems"] = workflow.Problems;
            return TypedResults.Problem(invalid);
        }

        var priority = 0;
        if (request.Query.TryGetValue("priority", out var priorityText)
            && (!int.TryParse(priorityText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out priority) || priority is < -1000 or > 1000))
        {
            return Problems.Invalid("'priority' must be a whole number from -1000 to 1000 (higher runs first).", "priority");
        }

        string? key = request.Headers["Idempotency-Key"];
        if (key is not null && (key.Length == 0 || key.Length > RunsApi.MaxIdempotencyKeyLength))
        {
            return Problems.Invalid($"'Idempotency-Key' must have 1 to {RunsApi.MaxIdempotencyKeyLength} characters.", "Idempotency-Key");
        }

        Dictionary<string, JsonNode?> values;
        try
        {
            values = request.HasFormContentType
                ? await ReadFormAsync(request, workflow, cancellationToken)
                : await ReadJsonAsync(request, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(Problems.Details(StatusCodes.Status400BadRequest, Problems.MalformedJson, "The body is not valid JSON",
                $"The request body could not be parsed as JSON: {ex.Message}", "body"));
        }
        catch (InputProblemException ex)
        {
            return InputProblem(ex.Error);
        }
        catch (InputRefusedException ex)
        {
            return InputProblem(new InputError(ex.InputName, InputRules.Format, ex.Message));
        }
        catch (InvalidDataException ex)
        {
            return Problems.Invalid($"The multipart body could not be read: {ex.Message}", "body");
        }

        var bound = WorkflowInputBinder.Bind(workflow, values, out var error);
        if (error is not null)
        {
            return InputProblem(error);
        }

        var graph = bound.Graph.ToJsonString();
        var parsed = WorkflowGraph.Parse(graph);
        var models = RunScheduler.ModelsOf(parsed);
        var readiness = await scheduler.ReadinessAsync(workflow.Selector, models, cancellationToken);
        if (!readiness.IsReady && !workflow.QueueWhenUnavailable && !options.Value.QueueWhenUnavailable)
        {
            request.HttpContext.Response.Headers.RetryAfter = "10";
            var unavailable = Problems.Details(StatusCodes.Status503ServiceUnavailable, Problems.WorkflowUnavailable, "No worker can run the workflow now",
                $"Workflow '{name}' has no ready worker: {readiness.Reason}.", "name");
            unavailable.Extensions["reason"] = readiness.Reason;
            return TypedResults.Problem(unavailable);
        }

        // The run's own webhook (query: webhook, webhookEvents) or the workflow's default.
        var webhook = workflow.DefaultWebhook;
        if (request.Query.TryGetValue("webhook", out var webhookUrl))
        {
            var events = request.Query.TryGetValue("webhookEvents", out var list)
                ? list.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [];
            (webhook, var webhookProblem) = await WebhookRequest.CheckAsync(webhookUrl, events, "webhook", downloader, cancellationToken);
            if (webhookProblem is not null)
            {
                return webhookProblem;
            }
        }
        else if (workflow.DefaultWebhook is { } fallback)
        {
            (webhook, var webhookProblem) = await WebhookRequest.CheckAsync(fallback.Url, fallback.Events, "webhook", downloader, cancellationToken);
            if (webhookProblem is not null)
            {
                return webhookProblem;
            }
        }

        // URL, data: and cache: (multipart upload) values become pinned cache files before a worker is reserved.
        IReadOnlyList<RunInput> prepared;
        try
        {
            prepared = await inputs.PrepareAsync(parsed, cancellationToken);
            if (prepared.Count > 0)
            {
                graph = parsed.ToJson();
            }
        }
        catch (InputRefusedException ex)
        {
            return InputProblem(new InputError(ex.InputName, InputRules.Format, ex.Message));
        }

        var command = new SubmitRunCommand(graph, priority, key, null)
        {
            Inputs = prepared,
            Webhook = webhook,
            Owner = RunOwner.Of(request.HttpContext),
            OwnerMaxPending = options.Value.MaxPendingPerKey,
            Deployment = workflow.Name,
            DeploymentMaxPending = workflow.MaxPending,
            Models = models,
        };
        var result = await runs.SubmitAsync(command, cancellationToken);
        return SubmitResults.From(request.HttpContext, result, routerOptions.Value.PendingLimit, options.Value.MaxPendingPerKey, workflow.Name, workflow.MaxPending ?? 0);
    }

    private static WorkflowReadiness ReadinessOf(WorkflowDefinition workflow, RunScheduler scheduler) =>
        workflow.IsValid
            ? scheduler.Readiness(workflow.Selector, [.. workflow.Models.Select(m => new ModelRequirement(m.Folder, m.FileName)).Distinct()])
            : new WorkflowReadiness(0, 0, 0, "the workflow is Invalid");

    private static async Task<Dictionary<string, JsonNode?>> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(cancellationToken);
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
        {
            return values;
        }

        if (JsonNode.Parse(text) is not JsonObject body)
        {
            throw new InputProblemException(new InputError("body", InputRules.Type, "The body must be a JSON object with one property per input."));
        }

        foreach (var (name, value) in body)
        {
            values[name] = value?.DeepClone();
        }

        return values;
    }

    private static async Task<Dictionary<string, JsonNode?>> ReadFormAsync(HttpRequest request, WorkflowDefinition workflow, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var inputs = workflow.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, text) in form)
        {
            values[name] = inputs.TryGetValue(name, out var input) ? FromText(input, text.ToString()) : JsonValue.Create(text.ToString());
        }

        var cache = request.HttpContext.RequestServices.GetRequiredService<InputCache>();
        foreach (var file in form.Files)
        {
            if (!inputs.TryGetValue(file.Name, out var input))
            {
                throw new InputProblemException(new InputError(file.Name, InputRules.Unknown, $"'{file.Name}' is not an input of workflow '{workflow.Name}'."));
            }

            if (input.Type != WorkflowInputType.ImageType)
            {
                throw new InputProblemException(new InputError(file.Name, InputRules.Type, $"'{file.Name}' is a {input.Type} input; only image inputs take files."));
            }

            await using var stream = file.OpenReadStream();
            var cached = await cache.PutAsync(file.Name, stream, Path.GetExtension(file.FileName), null, false, cancellationToken);
            values[file.Name] = JsonValue.Create(WorkflowInputBinder.CachePrefix + cached.FileName);
        }

        return values;
    }

    /// <summary>A form field as the input's type; text that does not parse stays text, so the binder names the type rule.</summary>
    private static JsonValue? FromText(WorkflowInput input, string text) => input.Type switch
    {
        WorkflowInputType.IntegerType when decimal.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
        WorkflowInputType.NumberType when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) => JsonValue.Create(number),
        WorkflowInputType.BooleanType when bool.TryParse(text, out var flag) => JsonValue.Create(flag),
        _ => JsonValue.Create(text),
    };

    private static ProblemHttpResult InputProblem(InputError error)
    {
        var problem = Problems.Details(StatusCodes.Status400BadRequest, Problems.InvalidInput, "An input is not valid", error.Message, error.Input);
        problem.Extensions["rule"] = error.Rule;
        return TypedResults.Problem(problem);
    }

    private static ProblemHttpResult UnknownWorkflow(string name) =>
        TypedResults.Problem(Problems.Details(StatusCodes.Status404NotFound, Problems.WorkflowNotFound, "Workflow not found",
            $"There is no workflow '{name}'. GET /v1/workflows lists them.", "name"));

    private sealed class InputProblemException(InputError error) : Exception(error.Message)
    {
        public InputError Error { get; } = error;
    }
}
