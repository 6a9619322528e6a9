using ComfyOperator.Router.Runs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ComfyOperator.Router.Api;

/// <summary>The HTTP answer to a submission, shared by <c>POST /v1/runs</c> and <c>POST /v1/workflows/{name}/runs</c>.</summary>
internal static class SubmitResults
{
    /// <summary>429 with <c>Retry-After</c> at a limit, 200 for an idempotent replay, else 202 with the run.</summary>
    public static Results<Accepted<RunResponse>, Ok<RunResponse>, ProblemHttpResult> From(
        HttpContext context, SubmitResult result, int pendingLimit, int perKeyLimit, string? workflow = null, int workflowLimit = 0)
    {
        switch (result.Outcome)
        {
            case SubmitOutcome.PendingLimitReached:
                context.Response.Headers.RetryAfter = "5";
                return Problems.PendingLimit(pendingLimit);
            case SubmitOutcome.OwnerLimitReached:
                context.Response.Headers.RetryAfter = "5";
                return Problems.KeyLimit(perKeyLimit);
            case SubmitOutcome.DeploymentLimitReached:
                context.Response.Headers.RetryAfter = "5";
                return Problems.WorkflowLimit(workflow ?? string.Empty, workflowLimit);
            case SubmitOutcome.Replayed:
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Ok(RunResponse.From(result.Run!));
            default:
                var response = RunResponse.From(result.Run!);
                return TypedResults.Accepted(response.Links.Self, response);
        }
    }
}
