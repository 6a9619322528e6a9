using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace ComfyOperator.Router.Api;

/// <summary>
/// Every error the router answers, as ProblemDetails with a stable <c>type</c> and <c>title</c>;
/// clients switch on <c>type</c>. The field that was wrong goes in the <c>field</c> extension.
/// </summary>
internal static class Problems
{
    public const string TypeBase = "https://comfyoperator.io/problems/";

    public const string InvalidWorkflow = TypeBase + "invalid-workflow";
    public const string UiFormatWorkflow = TypeBase + "ui-format-workflow";
    public const string InvalidRequest = TypeBase + "invalid-request";
    public const string MalformedJson = TypeBase + "malformed-json";
    public const string NotAuthenticated = TypeBase + "unauthorized";
    public const string Forbidden = TypeBase + "forbidden";
    public const string RunNotFound = TypeBase + "run-not-found";
    public const string OutputNotFound = TypeBase + "output-not-found";
    public const string PreviewNotFound = TypeBase + "preview-not-found";
    public const string NotFoundRoute = TypeBase + "not-found";
    public const string MethodNotAllowed = TypeBase + "method-not-allowed";
    public const string PendingLimitReached = TypeBase + "pending-limit-reached";
    public const string BodyTooLarge = TypeBase + "body-too-large";
    public const string RunFinished = TypeBase + "run-already-finished";
    public const string InvalidCursor = TypeBase + "invalid-cursor";
    public const string Internal = TypeBase + "internal-error";
    public const string Unavailable = TypeBase + "unavailable";
    public const string InputRefused = TypeBase + "input-refused";
    public const string KeyLimitReached = TypeBase + "key-pending-limit-reached";
    public const string WorkflowLimitReached = TypeBase + "workflow-pending-limit-reached";
    public const string WorkflowNotFound = TypeBase + "workflow-not-found";
    public const string WorkflowInvalid = TypeBase + "workflow-invalid";
    public const string WorkflowUnavailable = TypeBase + "workflow-unavailable";
    public const string InvalidInput = TypeBase + "invalid-input";
    public const string ModelUnavailable = TypeBase + "model-unavailable";
    public const string NodeNotFound = TypeBase + "node-not-found";
    public const string NodeExists = TypeBase + "node-exists";
    public const string NodeReadOnly = TypeBase + "node-read-only";
    public const string NodeNotComfyUi = TypeBase + "node-not-comfyui";
    public const string KeyNotFound = TypeBase + "key-not-found";
    public const string KeyReadOnly = TypeBase + "key-read-only";

    public static ProblemHttpResult Unauthorized(string detail) =>
        Create(StatusCodes.Status401Unauthorized, NotAuthenticated, "Authentication required", detail);

    public static ProblemHttpResult Workflow(string detail, string field, string? node = null) =>
        Create(StatusCodes.Status400BadRequest, InvalidWorkflow, "The workflow is not a valid API-format graph", detail, field, node);

    public static ProblemHttpResult UiFormat(string detail) =>
        Create(StatusCodes.Status400BadRequest, UiFormatWorkflow, "The workflow is in the editor's UI format", detail, "workflow");

    public static ProblemHttpResult Invalid(string detail, string field) =>
        Create(StatusCodes.Status400BadRequest, InvalidRequest, "The request is not valid", detail, field);

    public static ProblemHttpResult Input(string detail, string input, string? node) =>
        Create(StatusCodes.Status400BadRequest, InputRefused, "An input was refused", detail, input, node);

    public static ProblemHttpResult Cursor(string detail) =>
        Create(StatusCodes.Status400BadRequest, InvalidCursor, "The paging cursor is not valid", detail, "cursor");

    public static ProblemHttpResult UnknownRun(string id) =>
        Create(StatusCodes.Status404NotFound, RunNotFound, "Run not found", $"There is no run '{id}'.", "id");

    public static ProblemHttpResult UnknownOutput(string id, string name) =>
        Create(StatusCodes.Status404NotFound, OutputNotFound, "Output not found", $"Run '{id}' has no output '{name}'.", "name");

    public static ProblemHttpResult NoPreview(string id) =>
        Create(StatusCodes.Status404NotFound, PreviewNotFound, "No preview yet", $"Run '{id}' has no preview image (yet).", "id");

    public static ProblemHttpResult Finished(string id, string status) =>
        Create(StatusCodes.Status409Conflict, RunFinished, "The run has already finished", $"Run '{id}' is {status}; there is nothing to cancel.", "id");

    public static ProblemHttpResult PendingLimit(int limit) =>
        Create(StatusCodes.Status429TooManyRequests, PendingLimitReached, "Too many pending runs",
            $"{limit} runs are already waiting for a worker (Router:PendingLimit). Retry later.");

    public static ProblemHttpResult KeyLimit(int limit) =>
        Create(StatusCodes.Status429TooManyRequests, KeyLimitReached, "Too many pending runs for this API key",
            $"This API key already has {limit} runs waiting for a worker (Router:MaxPendingPerKey). Retry later.");

    public static ProblemHttpResult WorkflowLimit(string workflow, int limit) =>
        Create(StatusCodes.Status429TooManyRequests, WorkflowLimitReached, "Too many pending runs for this workflow",
            $"Workflow '{workflow}' already has {limit} runs waiting for a worker (spec.limits.maxPending). Retry later.", "name");

    public static ProblemHttpResult UnknownNode(string id) =>
        Create(StatusCodes.Status404NotFound, NodeNotFound, "Node not found", $"There is no worker with id '{id}'.", "id");

    public static ProblemHttpResult NodeAlreadyThere(string url, string source) =>
        Create(StatusCodes.Status409Conflict, NodeExists, "The worker is already known", $"{url} is already a worker (source '{source}').", "url");

    public static ProblemHttpResult ReadOnlyNode(string url, string source, string how) =>
        Create(StatusCodes.Status409Conflict, NodeReadOnly, "The worker is read-only through the API",
            $"{url} comes from source '{source}'; {how}", "id");

    public static ProblemHttpResult NotComfyUi(string detail) =>
        Create(StatusCodes.Status400BadRequest, NodeNotComfyUi, "The address does not answer as a ComfyUI", detail + " Pass ?probe=false to add it anyway.", "url");

    public static ProblemHttpResult UnknownKey(string id) =>
        Create(StatusCodes.Status404NotFound, KeyNotFound, "API key not found", $"There is no API key '{id}' created through the API.", "id");

    public static ProblemHttpResult ReadOnlyKey(string id, string source) =>
        Create(StatusCodes.Status409Conflict, KeyReadOnly, "The API key is read-only through the API",
            $"API key '{id}' comes from {(source == "file" ? "the keys file (Router:ApiKeysFile)" : "the configuration (Router:ApiKeys)")}; remove it there.", "id");

    public static ProblemDetails Details(int status, string type, string title, string? detail, string? field = null)
    {
        var problem = new ProblemDetails { Status = status, Type = type, Title = title, Detail = detail };
        if (field is not null)
        {
            problem.Extensions["field"] = field;
        }

        return problem;
    }

    private static ProblemHttpResult Create(int status, string type, string title, string detail, string? field = null, string? node = null)
    {
        var problem = Details(status, type, title, detail, field);
        if (node is not null)
        {
            problem.Extensions["node"] = node;
        }

        return TypedResults.Problem(problem);
    }
}
