using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Metrics;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Scheduling;

/// <summary>What every <see cref="RunAttempt"/> works with, handed over by the dispatcher in one piece.</summary>
internal sealed record AttemptServices(
    RunService Runs,
    IOutputStore Outputs,
    IRunInputResolver Inputs,
    AbandonedPrompts Abandoned,
    WorkerConnections Connections,
    CheckpointTracker Checkpoints,
    RouterMetrics Metrics,
    RouterOptions Options,
    TimeProvider Time,
    ILogger Logger,
    Workflows.WorkflowCatalog Catalog)
{
    /// <summary>The name a workflow run's deployment gives the output node (<c>outputs[].name</c>); null for raw graphs or unnamed nodes.</summary>
    public string? OutputNameOf(RunRecord run, string nodeId) =>
        run.Deployment is { } deployment && Catalog.Find(deployment) is { } workflow
            ? workflow.Outputs.FirstOrDefault(o => string.Equals(o.Node, nodeId, StringComparison.Ordinal))?.Name
            : null;
}
