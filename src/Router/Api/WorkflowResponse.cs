using ComfyOperator.Entities;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Workflows;

namespace ComfyOperator.Router.Api;

/// <summary>
/// A workflow as <c>GET /v1/workflows[/{name}]</c> shows it: contract, models, where it may run,
/// whether it can now, and its demand (runs pending and running, from the run store).
/// </summary>
internal sealed record WorkflowResponse(
    string Name,
    string? Namespace,
    string Source,
    string? Preset,
    string? Description,
    bool Valid,
    IReadOnlyList<string> Problems,
    IReadOnlyList<WorkflowInput> Inputs,
    IReadOnlyList<WorkflowOutput> Outputs,
    IReadOnlyList<string> Models,
    IReadOnlyDictionary<string, string>? Selector,
    string? PlacementPolicy,
    bool QueueWhenUnavailable,
    int? MaxPending,
    WorkflowReadiness Readiness,
    IReadOnlyDictionary<string, string> Links,
    WorkflowDemand Demand)
{
    public static WorkflowResponse From(WorkflowDefinition workflow, WorkflowReadiness readiness, WorkflowDemand demand) => new(
        workflow.Name,
        workflow.Namespace,
        workflow.Source,
        workflow.Preset,
        workflow.Description,
        workflow.IsValid,
        workflow.Problems,
        workflow.Inputs,
        workflow.Outputs,
        [.. workflow.Models.Select(m => $"{m.Folder}/{m.FileName}").Distinct(StringComparer.Ordinal)],
        workflow.Selector,
        workflow.PlacementPolicy,
        workflow.QueueWhenUnavailable,
        workflow.MaxPending,
        readiness,
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["self"] = $"/v1/workflows/{Uri.EscapeDataString(workflow.Name)}",
            ["runs"] = WorkflowOpenApi.RunsPath(workflow.Name),
            ["openapi"] = $"/v1/workflows/{Uri.EscapeDataString(workflow.Name)}/openapi.json",
        },
        demand);
}
