using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Submissions;
using ComfyOperator.Router.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

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
            .WithSummary("One workflow: inputs, outputs, models, readiness, demand (runs pending and running)");

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

    internal static async Task<Ok<WorkflowResponse[]>> List(WorkflowCatalog catalog, RunScheduler scheduler, RunDemand demand, CancellationToken cancellationToken)
    {
        var counts = await demand.CurrentAsync(cancellationToken);
        return TypedResults.Ok(catalog.All.Select(w => WorkflowResponse.From(w, ReadinessOf(w, scheduler), counts.TryGetValue(w.Name, out var d) ? d : WorkflowDemand.None)).ToArray());
    }

    internal static async Task<Results<Ok<WorkflowResponse>, ProblemHttpResult>> Get(string name, WorkflowCatalog catalog, RunScheduler scheduler, RunDemand demand, CancellationToken cancellationToken) =>
        catalog.Find(name) is { } workflow
            ? TypedResults.Ok(WorkflowResponse.From(workflow, ReadinessOf(workflow, scheduler), await demand.OfAsync(workflow.Name, cancellationToken)))
            : UnknownWorkflow(name);

    internal static IResult OpenApi(string name, WorkflowCatalog catalog) =>
        catalog.Find(name) is { } workflow
            ? Results.Text(WorkflowOpenApi.Document(workflow).ToJsonString(), "application/json")
            : UnknownWorkflow(name);

    internal static async Task<Results<Accepted<RunResponse>, Ok<RunResponse>, ProblemHttpResult>> SubmitAsync(
        string name, HttpRequest request, WorkflowCatalog catalog, InputCache cache, RunSubmission submission, CancellationToken cancellationToken)
    {
        var command = new SubmitRun { Workflow = name, IdempotencyKey = request.Headers["Idempotency-Key"], Owner = RunOwner.Of(request.HttpContext) };

        // An unknown or Invalid workflow is answered before the request is read.
        if (catalog.Find(name) is { IsValid: true } workflow)
        {
            if (request.Query.TryGetValue("priority", out var priorityText))
            {
                if (!int.TryParse(priorityText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var priority))
                {
                    return Problems.Invalid($"'priority' must be a whole number from {SubmitRun.MinPriority} to {SubmitRun.MaxPriority} (higher runs first).", "priority");
                }

                command = command with { Priority = priority };
            }

            try
            {
                command = command with
                {
                    Values = request.HasFormContentType
                        ? await ReadFormAsync(request, workflow, cache, cancellationToken)
                        : await ReadJsonAsync(request, cancellationToken),
                };
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

            // The run's own webhook (query: webhook, webhookEvents); without one the workflow's default applies.
            if (request.Query.TryGetValue("webhook", out var webhookUrl))
            {
                var events = request.Query.TryGetValue("webhookEvents", out var list)
                    ? list.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [];
                command = command with { Webhook = new WebhookTarget(webhookUrl, events) };
            }
        }

        var outcome = await submission.SubmitAsync(command, cancellationToken);
        return SubmitResults.From(request.HttpContext, outcome, refused => Refused(request.HttpContext, name, refused));
    }

    /// <summary>A workflow run that was not accepted, in this front door's words.</summary>
    internal static ProblemHttpResult Refused(HttpContext context, string name, SubmitRunOutcome outcome)
    {
        switch (outcome.Status)
        {
            case SubmitStatus.UnknownWorkflow:
                return UnknownWorkflow(name);
            case SubmitStatus.WorkflowInvalid:
                var problems = outcome.Workflow!.Problems;
                var invalid = Problems.Details(StatusCodes.Status409Conflict, Problems.WorkflowInvalid, "The workflow is Invalid",
                    $"Workflow '{name}' cannot run: {string.Join(" ", problems)}", "name");
                invalid.Extensions["problems"] = problems;
                return TypedResults.Problem(invalid);
            case SubmitStatus.Unavailable:
                context.Response.Headers.RetryAfter = "10";
                var reason = outcome.Readiness!.Reason;
                var unavailable = Problems.Details(StatusCodes.Status503ServiceUnavailable, Problems.WorkflowUnavailable, "No worker can run the workflow now",
                    $"Workflow '{name}' has no ready worker: {reason}.", "name");
                unavailable.Extensions["reason"] = reason;
                return TypedResults.Problem(unavailable);
            default:
                var problem = outcome.Problem!;
                return problem.Kind switch
                {
                    SubmitProblemKind.Input => InputProblem(new InputError(problem.Field, problem.Rule ?? InputRules.Format, problem.Message)),
                    SubmitProblemKind.InputRefused => InputProblem(new InputError(problem.Field, InputRules.Format, problem.Message)),
                    _ => SubmitResults.Problem(problem),
                };
        }
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

    private static async Task<Dictionary<string, JsonNode?>> ReadFormAsync(HttpRequest request, WorkflowDefinition workflow, InputCache cache, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var inputs = workflow.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, text) in form)
        {
            values[name] = inputs.TryGetValue(name, out var input) ? FromText(input, text.ToString()) : JsonValue.Create(text.ToString());
        }

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
