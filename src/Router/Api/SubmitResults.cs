using ComfyOperator.Router.Submissions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ComfyOperator.Router.Api;

/// <summary>The HTTP answer to a submission that both REST front doors share: the run, a replay, or a limit.</summary>
internal static class SubmitResults
{
    /// <summary>
    /// 202 with the run, 200 for an idempotent replay, 429 with <c>Retry-After</c> at a limit; any
    /// other outcome (a problem, a refusal) is the front door's own (<paramref name="refused"/>).
    /// </summary>
    public static Results<Accepted<RunResponse>, Ok<RunResponse>, ProblemHttpResult> From(
        HttpContext context, SubmitRunOutcome outcome, Func<SubmitRunOutcome, ProblemHttpResult> refused)
    {
        switch (outcome.Status)
        {
            case SubmitStatus.PendingLimitReached:
                context.Response.Headers.RetryAfter = "5";
                return Problems.PendingLimit(outcome.Limit);
            case SubmitStatus.OwnerLimitReached:
                context.Response.Headers.RetryAfter = "5";
                return Problems.KeyLimit(outcome.Limit);
            case SubmitStatus.DeploymentLimitReached:
                context.Response.Headers.RetryAfter = "5";
                return Problems.WorkflowLimit(outcome.Workflow?.Name ?? string.Empty, outcome.Limit);
            case SubmitStatus.Replayed:
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Ok(RunResponse.From(outcome.Run!));
            case SubmitStatus.Created:
                var response = RunResponse.From(outcome.Run!);
                return TypedResults.Accepted(response.Links.Self, response);
            default:
                return refused(outcome);
        }
    }

    /// <summary>A problem with the request, as <c>POST /v1/runs</c> words it.</summary>
    public static ProblemHttpResult Problem(SubmitProblem problem) => problem.Kind switch
    {
        SubmitProblemKind.Graph or SubmitProblemKind.UnknownNodeClass => Problems.Workflow(problem.Message, problem.Field, problem.NodeId),
        SubmitProblemKind.UiFormat => Problems.UiFormat(problem.Message),
        SubmitProblemKind.InputRefused => Problems.Input(problem.Message, problem.Field, problem.NodeId),
        _ => Problems.Invalid(problem.Message, problem.Field),
    };
}
