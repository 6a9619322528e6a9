using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Entities;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// An OpenAPI 3.0 document for one workflow: <c>POST /v1/workflows/{name}/runs</c> whose JSON
/// request body is an object with one property per input (type, default, bounds, enum, required),
/// and whose multipart body takes image inputs as files — so a client generator makes a typed
/// client per workflow. The operation is also what the router's main document lists.
/// </summary>
internal static class WorkflowOpenApi
{
    public static string RunsPath(string workflow) => $"/v1/workflows/{Uri.EscapeDataString(workflow)}/runs";

    public static string SchemaName(string workflow) =>
        string.Concat(workflow.Split(['-', '_', '.'], StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..])) + "Inputs";

    public static JsonObject Document(WorkflowDefinition workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var schemaName = SchemaName(workflow.Name);
        return new JsonObject
        {
            ["openapi"] = "3.0.3",
            ["info"] = new JsonObject
            {
                ["title"] = $"Workflow {workflow.Name}",
                ["version"] = "v1",
                ["description"] = workflow.Description ?? $"Runs of the ComfyUI workflow '{workflow.Name}' through the ComfyOperator router.",
            },
            ["paths"] = new JsonObject { [RunsPath(workflow.Name)] = new JsonObject { ["post"] = Operation(workflow, $"#/components/schemas/{schemaName}") } },
            ["components"] = new JsonObject
            {
                ["schemas"] = new JsonObject
                {
                    [schemaName] = InputsSchema(workflow, multipart: false),
                    ["WorkflowRun"] = RunSchema(),
                    ["WorkflowProblem"] = ProblemSchema(),
                },
                ["securitySchemes"] = new JsonObject
                {
                    ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer" },
                    ["basic"] = new JsonObject { ["type"] = "http", ["scheme"] = "basic" },
                },
            },
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }, new JsonObject { ["basic"] = new JsonArray() }),
        };
    }

    /// <summary>The POST operation; <paramref name="jsonSchemaRef"/> null inlines the JSON body schema.</summary>
    public static JsonObject Operation(WorkflowDefinition workflow, string? jsonSchemaRef)
    {
        var problem = new JsonObject { ["$ref"] = "#/components/schemas/WorkflowProblem" };
        JsonObject Response(string description, JsonNode schema, string mediaType = "application/json") => new()
        {
            ["description"] = description,
            ["content"] = new JsonObject { [mediaType] = new JsonObject { ["schema"] = schema.DeepClone() } },
        };

        return new JsonObject
        {
            ["operationId"] = "run_" + string.Concat(workflow.Name.Select(c => char.IsLetterOrDigit(c) ? c : '_')),
            ["tags"] = new JsonArray("Workflows"),
            ["summary"] = $"Run workflow '{workflow.Name}'",
            ["description"] = (workflow.Description ?? string.Empty) + " Inputs as a JSON object, or as multipart/form-data with files for image inputs. Answers 202 with the queued run; follow it at /v1/runs/{id} and /v1/runs/{id}/events.",
            ["parameters"] = new JsonArray(
                new JsonObject
                {
                    ["name"] = "priority",
                    ["in"] = "query",
                    ["required"] = false,
                    ["description"] = "Higher runs first (-1000 to 1000).",
                    ["schema"] = new JsonObject { ["type"] = "integer", ["minimum"] = -1000, ["maximum"] = 1000, ["default"] = 0 },
                },
                new JsonObject
                {
                    ["name"] = "Idempotency-Key",
                    ["in"] = "header",
                    ["required"] = false,
                    ["description"] = "The same key returns the original run.",
                    ["schema"] = new JsonObject { ["type"] = "string", ["maxLength"] = 200 },
                }),
            ["requestBody"] = new JsonObject
            {
                ["required"] = true,
                ["content"] = new JsonObject
                {
                    ["application/json"] = new JsonObject { ["schema"] = jsonSchemaRef is null ? InputsSchema(workflow, multipart: false) : new JsonObject { ["$ref"] = jsonSchemaRef } },
                    ["multipart/form-data"] = new JsonObject { ["schema"] = InputsSchema(workflow, multipart: true) },
                },
            },
            ["responses"] = new JsonObject
            {
                ["202"] = Response("The run is queued.", new JsonObject { ["$ref"] = "#/components/schemas/WorkflowRun" }),
                ["400"] = Response("An input is missing or breaks a rule (field = the input, rule = the rule).", problem, "application/problem+json"),
                ["401"] = Response("Credentials are missing or wrong.", problem, "application/problem+json"),
                ["404"] = Response("No such workflow.", problem, "application/problem+json"),
                ["409"] = Response("The workflow is Invalid.", problem, "application/problem+json"),
                ["429"] = Response("Too many pending runs (router, API key or workflow limit); see Retry-After.", problem, "application/problem+json"),
                ["503"] = Response("No ready worker can run the workflow (the detail says why).", problem, "application/problem+json"),
            },
        };
    }

    public static JsonObject InputsSchema(WorkflowDefinition workflow, bool multipart)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var input in workflow.Inputs)
        {
            properties[input.Name] = InputSchema(input, multipart);
            if (input.Required)
            {
                required.Add(input.Name);
            }
        }

        var schema = new JsonObject
        {
            ["type"] = "object",
            ["description"] = $"Inputs of workflow '{workflow.Name}'.",
            ["properties"] = properties,
            ["additionalProperties"] = false,
        };
        if (required.Count > 0)
        {
            schema["required"] = required;
        }

        return schema;
    }

    private static JsonObject InputSchema(WorkflowInput input, bool multipart)
    {
        var schema = input.Type switch
        {
            WorkflowInputType.IntegerType => new JsonObject { ["type"] = "integer" },
            WorkflowInputType.NumberType => new JsonObject { ["type"] = "number" },
            WorkflowInputType.BooleanType => new JsonObject { ["type"] = "boolean" },
            WorkflowInputType.ImageType when multipart => new JsonObject { ["type"] = "string", ["format"] = "binary" },
            WorkflowInputType.ImageType => new JsonObject { ["type"] = "string", ["pattern"] = "^(https?://|data:|cache:)" },
            _ => new JsonObject { ["type"] = "string" },
        };
        if (input.Description is { Length: > 0 } description)
        {
            schema["description"] = input.Type == WorkflowInputType.ImageType && !multipart
                ? description + " (JSON: an http(s) URL or a data: URI.)"
                : description;
        }

        if (input.Min is { } min)
        {
            schema["minimum"] = min;
        }

        if (input.Max is { } max)
        {
            schema["maximum"] = max;
        }

        if (input.Enum is { Count: > 0 } values && input.Type == WorkflowInputType.StringType)
        {
            schema["enum"] = new JsonArray([.. values.Select(v => JsonValue.Create(v))]);
        }

        if (input.Default is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } fallback && !(multipart && input.Type == WorkflowInputType.ImageType))
        {
            schema["default"] = JsonNode.Parse(fallback.GetRawText());
        }

        return schema;
    }

    private static JsonObject RunSchema() => new()
    {
        ["type"] = "object",
        ["description"] = "A run, as GET /v1/runs/{id} returns it.",
        ["properties"] = new JsonObject
        {
            ["id"] = new JsonObject { ["type"] = "string" },
            ["status"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("queued", "dispatching", "running", "succeeded", "failed", "cancelled") },
            ["links"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "string" } },
        },
        ["required"] = new JsonArray("id", "status"),
    };

    private static JsonObject ProblemSchema() => new()
    {
        ["type"] = "object",
        ["description"] = "RFC 9457 problem details.",
        ["properties"] = new JsonObject
        {
            ["type"] = new JsonObject { ["type"] = "string" },
            ["title"] = new JsonObject { ["type"] = "string" },
            ["status"] = new JsonObject { ["type"] = "integer" },
            ["detail"] = new JsonObject { ["type"] = "string" },
            ["field"] = new JsonObject { ["type"] = "string" },
            ["rule"] = new JsonObject { ["type"] = "string" },
        },
    };
}
