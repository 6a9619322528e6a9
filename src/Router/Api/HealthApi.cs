using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.Api;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (store reachable, at least one worker known). Both open.</summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").WithTags("Health").AllowAnonymous();
        api.MapGet("/healthz", Live).WithName("Healthz").WithSummary("The process is up");
        api.MapGet("/readyz", ReadyAsync).WithName("Readyz").WithSummary("The run store is reachable and at least one ComfyUI node is known");
        return app;
    }

    internal static Ok<HealthResponse> Live(WorkerRegistry registry) =>
        TypedResults.Ok(new HealthResponse("ok", [], registry.Workers.Count, registry.Workers.Count(w => w.ActiveHealth == HealthState.Healthy)));

    internal static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> ReadyAsync(
        RunService runs, WorkerRegistry registry, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (!await runs.IsStoreReachableAsync(cancellationToken))
        {
            problems.Add("The run store is not reachable.");
        }

        var workers = registry.Workers;
        if (workers.Count == 0)
        {
            problems.Add("No ComfyUI nodes are configured (set COMFY_ROUTER__NODES or COMFY_ROUTER__SERVERS_FILE).");
        }

        var healthy = workers.Count(w => w.ActiveHealth == HealthState.Healthy);
        var body = new HealthResponse(problems.Count == 0 ? "ready" : "not-ready", problems, workers.Count, healthy);
        return problems.Count == 0 ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
