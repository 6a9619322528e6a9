using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Api;

/// <summary><c>/v1/nodes</c>: the live view of every worker.</summary>
internal static class NodesApi
{
    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/nodes").WithTags("Nodes").RequireAuthorization();
        api.MapGet("/", List)
            .WithName("ListNodes")
            .WithSummary("Every worker: address, source, health (active/passive), phase, queue, current run, GPU, last error");
        return app;
    }

    internal static Ok<IReadOnlyList<NodeResponse>> List(WorkerRegistry registry, IOptions<RouterOptions> options, TimeProvider time)
    {
        var now = time.GetUtcNow();
        IReadOnlyList<NodeResponse> nodes = [.. registry.Workers.Select(w => new NodeResponse(
            w.BaseAddress.ToString(),
            w.Endpoint.Source,
            w.Phase(now),
            w.ActiveHealth.ToString(),
            w.PassiveHealth(now).ToString(),
            w.IsEligible(now, options.Value.MaxQueuePerWorker),
            w.Assigned,
            w.QueueRemaining,
            w.RunningRunId,
            w.ComfyVersion,
            w.Devices,
            w.LastError,
            w.LastProbeAt))];
        return TypedResults.Ok(nodes);
    }
}
