using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// Turns a WorkflowDeployment (from a file or the cluster) into what the router serves, checking
/// everything a run would trip over: one graph source, a valid API-format graph, every input and
/// output pointing at a node that exists, known input types and placement policy. Problems make
/// the workflow Invalid (409 on runs) instead of failing on a worker.
/// </summary>
internal static class WorkflowDefinitionFactory
{
    public static WorkflowDefinition Create(WorkflowDeployment deployment, string source, Func<WorkflowRef, string?>? resolveRef = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var spec = deployment.Spec ?? new WorkflowDeploymentSpec();
        var name = deployment.Metadata.Name ?? string.Empty;
        var problems = new List<string>();
        var annotations = deployment.Metadata.Annotations ?? new Dictionary<string, string>();

        var sources = (spec.Workflow is { ValueKind: JsonValueKind.Object } ? 1 : 0) + (spec.WorkflowRef is not null ? 1 : 0) + (string.IsNullOrEmpty(spec.Preset) ? 0 : 1);
        if (sources != 1)
        {
            problems.Add($"spec: exactly one of workflow, workflowRef and preset must be set ({sources} are).");
        }

        string? policy = annotations.TryGetValue(WorkflowAnnotations.PlacementPolicy, out var p) && !string.IsNullOrWhiteSpace(p) ? p.Trim() : null;
        if (policy is not null && !PlacementPolicyNames.All.Contains(policy, StringComparer.OrdinalIgnoreCase))
        {
            problems.Add($"metadata.annotations[{WorkflowAnnotations.PlacementPolicy}]: unknown placement policy '{policy}'; use one of {string.Join(", ", PlacementPolicyNames.All)}.");
        }

        var queueWhenUnavailable = annotations.TryGetValue(WorkflowAnnotations.QueueWhenUnavailable, out var q) && bool.TryParse(q, out var qv) && qv;
        var webhook = DefaultWebhook(annotations, problems);
        IReadOnlyDictionary<string, string>? selector = spec.NodeSelector is { Count: > 0 } ns
            ? new Dictionary<string, string>(ns, StringComparer.Ordinal)
            : spec.Template is not null && source == WorkflowSourceNames.Kubernetes
                ? new Dictionary<string, string>(StringComparer.Ordinal) { [EntityLabels.WorkflowDeployment] = name }
                : null;

        if (deployment.Status?.Phase == WorkflowDeploymentPhase.Invalid)
        {
            problems.AddRange(deployment.Status.ValidationErrors is { Count: > 0 } errors
                ? errors.Select(e => e.ToString())
                : ["the operator marked the workflow Invalid."]);
        }

        var outputs = (spec.Outputs ?? []).ToList();
        WorkflowDefinition? preset = null;
        JsonObject? graph = null;
        if (!string.IsNullOrEmpty(spec.Preset))
        {
            preset = BuiltInWorkflows.Find(spec.Preset);
            if (preset is null)
            {
                problems.Add($"spec.preset: unknown preset '{spec.Preset}'; use one of {string.Join(", ", BuiltInWorkflows.Names)}.");
            }
        }
        else if (spec.Workflow is { ValueKind: JsonValueKind.Object } inline)
        {
            graph = ParseGraph(inline.GetRawText(), "spec.workflow", problems);
        }
        else if (spec.WorkflowRef is { } reference)
        {
            var text = resolveRef?.Invoke(reference);
            if (text is null)
            {
                problems.Add($"spec.workflowRef: ConfigMap '{reference.Name}' key '{reference.Key}' was not found" + (resolveRef is null ? " (workflowRef needs the Kubernetes source)." : "."));
            }
            else
            {
                graph = ParseGraph(text, $"spec.workflowRef ({reference.Name}/{reference.Key})", problems);
            }
        }

        var definition = new WorkflowDefinition
        {
            Name = name,
            Namespace = deployment.Metadata.NamespaceProperty,
            Source = source,
            Preset = preset?.Name,
            Description = preset?.Description,
            Selector = selector,
            PlacementPolicy = policy,
            QueueWhenUnavailable = queueWhenUnavailable,
            Autoscaled = spec.Template is not null && spec.NodeSelector is not { Count: > 0 } && spec.Autoscaling is { MaxReplicas: > 0 },
            DefaultWebhook = webhook,
            MaxPending = spec.Limits?.MaxPending,
        };

        if (preset is not null)
        {
            if (spec.Inputs is { Count: > 0 })
            {
                // Own inputs over the preset's text-to-image graph.
                var presetGraph = preset.SelectGraph!(new HashSet<string>(StringComparer.Ordinal)).Graph;
                var inputs = CheckInputs(spec.Inputs, presetGraph, problems);
                CheckOutputs(outputs, presetGraph, problems);
                return definition with
                {
                    Inputs = inputs,
                    Outputs = outputs,
                    Models = WorkflowGraph.Parse(presetGraph).GetModelReferences(),
                    SelectGraph = problems.Count == 0 ? Single(presetGraph, inputs) : null,
                    Problems = problems,
                };
            }

            List<WorkflowOutput> presetOutputs = outputs.Count > 0 ? outputs : [.. preset.Outputs];
            CheckOutputs(presetOutputs, preset.SelectGraph!(new HashSet<string>(StringComparer.Ordinal)).Graph, problems);
            return definition with
            {
                Inputs = preset.Inputs,
                Outputs = presetOutputs,
                Models = preset.Models,
                SelectGraph = problems.Count == 0 ? preset.SelectGraph : null,
                Problems = problems,
            };
        }

        if (graph is null)
        {
            return definition with { Inputs = [.. spec.Inputs ?? []], Outputs = outputs, Problems = problems.Count == 0 ? ["spec: no graph."] : problems };
        }

        var checkedInputs = CheckInputs(spec.Inputs ?? [], graph, problems);
        CheckOutputs(outputs, graph, problems);
        return definition with
        {
            Inputs = checkedInputs,
            Outputs = outputs,
            Models = WorkflowGraph.Parse(graph).GetModelReferences(),
            SelectGraph = problems.Count == 0 ? Single(graph, checkedInputs) : null,
            Problems = problems,
        };
    }

    private static Func<IReadOnlySet<string>, WorkflowGraphVariant> Single(JsonObject graph, IReadOnlyList<WorkflowInput> inputs)
    {
        var targets = inputs.ToDictionary(i => i.Name, i => (IReadOnlyList<InputTarget>)[new InputTarget(i.Node, i.Input)], StringComparer.Ordinal);
        return _ => new WorkflowGraphVariant((JsonObject)graph.DeepClone(), targets);
    }

    private static RunWebhook? DefaultWebhook(IDictionary<string, string> annotations, List<string> problems)
    {
        if (!annotations.TryGetValue(WorkflowAnnotations.Webhook, out var urlText) || string.IsNullOrWhiteSpace(urlText))
        {
            return null;
        }

        if (!Uri.TryCreate(urlText.Trim(), UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            problems.Add($"metadata.annotations[{WorkflowAnnotations.Webhook}]: '{urlText}' is not an absolute http(s) URL.");
            return null;
        }

        var events = annotations.TryGetValue(WorkflowAnnotations.WebhookEvents, out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        foreach (var name in events.Where(e => !Webhooks.WebhookEvents.IsKnown(e)))
        {
            problems.Add($"metadata.annotations[{WorkflowAnnotations.WebhookEvents}]: unknown event '{name}'; use run.succeeded, run.failed, run.cancelled, run.started or run.progress.");
        }

        return new RunWebhook(url.ToString(), events);
    }

    private static JsonObject? ParseGraph(string json, string field, List<string> problems)
    {
        if (!WorkflowGraph.TryParse(json, out var parsed, out var error))
        {
            problems.Add($"{field}: {error!.Message}");
            return null;
        }

        foreach (var issue in parsed!.Validate())
        {
            problems.Add($"{field}: {issue.Message}");
        }

        return problems.Count == 0 ? parsed.ToJsonObject() : null;
    }

    private static List<WorkflowInput> CheckInputs(IList<WorkflowInput> inputs, JsonObject graph, List<string> problems)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            var at = $"spec.inputs[{i}]";
            if (string.IsNullOrWhiteSpace(input.Name) || !seen.Add(input.Name))
            {
                problems.Add($"{at}.name: '{input.Name}' is empty or used twice.");
            }

            if (!WorkflowInputType.All.Contains(input.Type, StringComparer.Ordinal))
            {
                problems.Add($"{at}.type: '{input.Type}' is not one of {string.Join(", ", WorkflowInputType.All)}.");
            }

            if (graph[input.Node] is not JsonObject)
            {
                problems.Add($"{at}.node: the graph has no node '{input.Node}' (input '{input.Name}').");
            }
            else if (string.IsNullOrWhiteSpace(input.Input))
            {
                problems.Add($"{at}.input: empty (input '{input.Name}').");
            }

            if (input.Min is { } min && input.Max is { } max && min > max)
            {
                problems.Add($"{at}: min {min} is above max {max} (input '{input.Name}').");
            }
        }

        return [.. inputs];
    }

    private static void CheckOutputs(List<WorkflowOutput> outputs, JsonObject graph, List<string> problems)
    {
        for (var i = 0; i < outputs.Count; i++)
        {
            if (graph[outputs[i].Node] is not JsonObject)
            {
                problems.Add($"spec.outputs[{i}].node: the graph has no node '{outputs[i].Node}' (output '{outputs[i].Name}').");
            }
        }
    }
}
