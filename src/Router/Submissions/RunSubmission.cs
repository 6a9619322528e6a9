using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Webhooks;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Submissions;

/// <summary>
/// The one submission path, whatever the front door. In order: the workflow (when one is named);
/// the graph, parsed once (and checked like ComfyUI would, or bound from the workflow's inputs);
/// its node classes (one that no worker has is refused);
/// the request fields; the webhook; the readiness rule; the graph's input files and URLs (pinned
/// in the cache); then <see cref="RunService.CreateAsync"/> (idempotency, pending limits, store,
/// publish, queue; or, for a run the dispatcher places on a worker now, stored dispatching and started).
/// Everything the request gets wrong is answered before readiness is looked at.
/// The parsed graph travels with the queued run to the attempt that posts it.
/// </summary>
/// <remarks>
/// The readiness rule: a run that no worker can take now (none healthy and connected with its
/// labels and its models) either waits in the queue or is refused with 503, depending on what the
/// run may wait for. A raw graph may wait for workers (to start, connect, become healthy), but not
/// for models: when every matching worker's model lists, read again, lack a model, it is refused.
/// A workflow run waits for anything when its workflow is marked queue-when-unavailable (the
/// annotation, or <c>Router:QueueWhenUnavailable</c> for workflows without it) or autoscaled (a
/// WorkflowDeployment with <c>spec.autoscaling</c>: the operator adds a replica for it, scale from
/// zero), and is refused whenever no worker is ready otherwise.
/// </remarks>
internal sealed class RunSubmission(
    RunService runs,
    RunScheduler scheduler,
    IImmediateDispatcher dispatcher,
    WorkflowCatalog catalog,
    IRunInputResolver inputs,
    SafeHttpDownloader downloader,
    IOptions<RouterOptions> router,
    IOptions<WorkflowRoutingOptions> routing)
{
    public async Task<SubmitRunOutcome> SubmitAsync(SubmitRun command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        WorkflowDefinition? workflow = null;
        if (command.Workflow is { } name)
        {
            workflow = catalog.Find(name);
            if (workflow is null)
            {
                return new SubmitRunOutcome(SubmitStatus.UnknownWorkflow);
            }

            if (!workflow.IsValid)
            {
                return new SubmitRunOutcome(SubmitStatus.WorkflowInvalid) { Workflow = workflow };
            }
        }

        // A graph that comes with its workflow was bound before (a rerun): it is checked like any graph, and belongs to the workflow.
        var (graph, problem) = workflow is null || command.Graph is not null ? ParseGraph(command.Graph) : BindGraph(workflow, command);
        var runGraph = graph is null ? null : RunGraph.Of(graph);
        problem ??= CheckNodeClasses(runGraph!) ?? CheckRequest(command);
        RunWebhook? webhook = null;
        if (problem is null && (command.Webhook ?? DefaultWebhookOf(workflow)) is { } target)
        {
            (webhook, problem) = await CheckWebhookAsync(target, cancellationToken);
        }

        if (problem is null && command.RunId is { } id && !command.RunIdIsNew
            && (!OutputNames.IsSafe(id) || id.Length > SubmitRun.MaxRunIdLength || await runs.GetAsync(id, cancellationToken) is not null))
        {
            problem = new SubmitProblem(SubmitProblemKind.Request, $"The run id '{id}' is in use or not 1 to {SubmitRun.MaxRunIdLength} letters, digits, '-', '_' or '.'.", "id");
        }

        if (problem is not null)
        {
            return new SubmitRunOutcome(SubmitStatus.Invalid) { Problem = problem, Workflow = workflow };
        }

        var readiness = scheduler.CanRunNow(workflow?.Selector, runGraph!.Models) ? null : await scheduler.ReadinessAsync(workflow?.Selector, runGraph.Models, cancellationToken);
        if (readiness is { IsReady: false } && !MayWait(workflow, readiness))
        {
            return new SubmitRunOutcome(SubmitStatus.Unavailable) { Readiness = readiness, Workflow = workflow };
        }

        // URL, data: and cache: values become pinned cache files before a worker is reserved (data: URIs are rewritten to cache: references).
        IReadOnlyList<RunInput> prepared;
        try
        {
            prepared = await inputs.PrepareAsync(graph!, cancellationToken);
        }
        catch (InputRefusedException refused)
        {
            return new SubmitRunOutcome(SubmitStatus.Invalid)
            {
                Problem = new SubmitProblem(SubmitProblemKind.InputRefused, refused.Message, refused.InputName)
                {
                    NodeId = refused.InputName.Split('.') is ["workflow", var node, ..] ? node : null,
                },
                Workflow = workflow,
            };
        }

        // Serialized once, for the store; the queued run carries the parsed graph to the attempt.
        var text = graph!.ToJson();
        var perKey = routing.Value.MaxPendingPerKey;
        var result = await runs.CreateAsync(
            new NewRun(runGraph, text, command.Priority, command.IdempotencyKey, command.Metadata)
            {
                Inputs = prepared,
                Webhook = webhook,
                ExtraData = command.ExtraData,
                Owner = command.Owner,
                Id = command.RunId,
                OwnerMaxPending = perKey,
                Deployment = workflow?.Name,
                DeploymentMaxPending = workflow?.MaxPending,
            },
            dispatcher,
            cancellationToken);
        return result.Outcome switch
        {
            SubmitOutcome.Created => new SubmitRunOutcome(SubmitStatus.Created) { Run = result.Run, Workflow = workflow },
            SubmitOutcome.Replayed => new SubmitRunOutcome(SubmitStatus.Replayed) { Run = result.Run, Workflow = workflow },
            SubmitOutcome.PendingLimitReached => new SubmitRunOutcome(SubmitStatus.PendingLimitReached) { Limit = router.Value.PendingLimit, Workflow = workflow },
            SubmitOutcome.OwnerLimitReached => new SubmitRunOutcome(SubmitStatus.OwnerLimitReached) { Limit = perKey, Workflow = workflow },
            _ => new SubmitRunOutcome(SubmitStatus.DeploymentLimitReached) { Limit = workflow?.MaxPending ?? 0, Workflow = workflow },
        };
    }

    /// <summary>The readiness rule's one choice: what a run that no worker can take now may wait for (see the remarks).</summary>
    private bool MayWait(WorkflowDefinition? workflow, WorkflowReadiness readiness) =>
        workflow is null ? !readiness.ModelsMissing : workflow.QueueWhenUnavailable || workflow.Autoscaled || routing.Value.QueueWhenUnavailable;

    private static WebhookTarget? DefaultWebhookOf(WorkflowDefinition? workflow) =>
        workflow?.DefaultWebhook is { } fallback ? new WebhookTarget(fallback.Url, [.. fallback.Events]) : null;

    /// <summary>
    /// Takes a submitted graph (the front door's parsed JSON, not copied) and checks it the way ComfyUI would before
    /// queueing it (docs/comfyui-protocol.md §6): API format, node shape, links; a problem names the node and input.
    /// Graphs without a known output class pass: custom output nodes are only known to the worker.
    /// </summary>
    private static (WorkflowGraph? Graph, SubmitProblem? Problem) ParseGraph(JsonNode? document)
    {
        if (document is null)
        {
            return (null, new SubmitProblem(SubmitProblemKind.Graph, "The body has no 'workflow' (an API-format graph: an object of nodes keyed by id).", "workflow"));
        }

        WorkflowGraph graph;
        try
        {
            graph = WorkflowGraph.ParseOwned(document);
        }
        catch (WorkflowFormatException ex)
        {
            if (ex.Detected == WorkflowFormat.UiWorkflow)
            {
                return (null, new SubmitProblem(SubmitProblemKind.UiFormat, ex.Message, "workflow"));
            }

            var field = ex.Detected == WorkflowFormat.RequestBody ? "workflow.prompt"
                : ex.NodeId is null ? "workflow"
                : ex.Member is null ? $"workflow.{ex.NodeId}" : $"workflow.{ex.NodeId}.{ex.Member}";
            return (null, new SubmitProblem(SubmitProblemKind.Graph, ex.Message, field) { NodeId = ex.NodeId });
        }

        var issue = graph.Validate().FirstOrDefault(i => i.Code != WorkflowIssueCodes.NoOutputs);
        if (issue is null)
        {
            return (graph, null);
        }

        var at = issue.NodeId is null ? "workflow" : issue.InputName is null ? $"workflow.{issue.NodeId}" : $"workflow.{issue.NodeId}.inputs.{issue.InputName}";
        return (null, new SubmitProblem(SubmitProblemKind.Graph, issue.Message, at) { NodeId = issue.NodeId });
    }

    /// <summary>Writes the values into the workflow's graph (checked when the workflow was loaded), which is then parsed without another copy.</summary>
    private static (WorkflowGraph? Graph, SubmitProblem? Problem) BindGraph(WorkflowDefinition workflow, SubmitRun command)
    {
        var bound = WorkflowInputBinder.Bind(workflow, command.Values, out var error);
        return error is not null
            ? (null, new SubmitProblem(SubmitProblemKind.Input, error.Message, error.Input) { Rule = error.Rule })
            : (WorkflowGraph.ParseOwned(bound.Graph), null);
    }

    /// <summary>A node class that no worker has (by their <c>/object_info</c>) would only fail on the worker: refused here, naming it.</summary>
    private SubmitProblem? CheckNodeClasses(RunGraph graph)
    {
        if (scheduler.UnknownNodeClasses(graph.NodeClasses) is not [var missing, ..])
        {
            return null;
        }

        var node = graph.Graph.Nodes.First(n => n.ClassType == missing);
        return new SubmitProblem(
            SubmitProblemKind.UnknownNodeClass,
            $"Cannot execute because node {missing} does not exist: no worker has the node class '{missing}' (node {node.Id}).",
            $"workflow.{node.Id}.class_type")
        {
            NodeId = node.Id,
            NodeClass = missing,
        };
    }

    private static SubmitProblem? CheckRequest(SubmitRun command)
    {
        if (command.Priority is < SubmitRun.MinPriority or > SubmitRun.MaxPriority)
        {
            return new SubmitProblem(SubmitProblemKind.Request, $"'priority' must be a whole number from {SubmitRun.MinPriority} to {SubmitRun.MaxPriority} (higher runs first).", "priority");
        }

        if (command.IdempotencyKey is { } key && (key.Length == 0 || key.Length > SubmitRun.MaxIdempotencyKeyLength))
        {
            return new SubmitProblem(SubmitProblemKind.Request, $"'idempotencyKey' (or the Idempotency-Key header) must have 1 to {SubmitRun.MaxIdempotencyKeyLength} characters.", "idempotencyKey");
        }

        if (command.Metadata is { Length: > SubmitRun.MaxMetadataBytes })
        {
            return new SubmitProblem(SubmitProblemKind.Request, $"'metadata' must be at most {SubmitRun.MaxMetadataBytes} bytes of JSON.", "metadata");
        }

        return null;
    }

    /// <summary>An absolute http(s) URL that passes the SSRF guard, and known event names.</summary>
    private async Task<(RunWebhook? Webhook, SubmitProblem? Problem)> CheckWebhookAsync(WebhookTarget target, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(target.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            return (null, new SubmitProblem(SubmitProblemKind.Request, "'webhook.url' must be an absolute http(s) URL.", "webhook.url"));
        }

        var names = new List<string>();
        foreach (var name in target.Events)
        {
            if (name is null || !WebhookEvents.IsKnown(name))
            {
                return (null, new SubmitProblem(
                    SubmitProblemKind.Request,
                    $"Unknown webhook event '{name}'; use run.succeeded, run.failed, run.cancelled, run.started or run.progress.",
                    "webhook.events"));
            }

            names.Add(name);
        }

        try
        {
            await downloader.CheckUrlAsync("webhook.url", url, cancellationToken);
        }
        catch (InputRefusedException refused)
        {
            return (null, new SubmitProblem(SubmitProblemKind.Request, refused.Message, "webhook.url"));
        }

        return (new RunWebhook(url.ToString(), names), null);
    }
}
