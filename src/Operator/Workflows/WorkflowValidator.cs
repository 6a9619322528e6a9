using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Workflows;

/// <summary>
/// A WorkflowDeployment's graph and declared inputs/outputs, checked with <c>src/Comfy</c>:
/// <see cref="WorkflowGraph.Parse(JsonNode?, bool)"/> (API format, UI-format detection),
/// <see cref="WorkflowGraph.Validate"/> (links, output node) and <see cref="WorkflowBindings"/>
/// (each <c>inputs[]</c> entry names an existing literal node input of the declared type). What is
/// left here is only what belongs to the spec: defaults, ranges and named outputs.
/// </summary>
internal static class WorkflowValidator
{
    public static IReadOnlyList<WorkflowValidationError> Validate(JsonElement document, WorkflowDeploymentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        WorkflowGraph graph;
        try
        {
            graph = WorkflowGraph.Parse(JsonSerializer.SerializeToNode(document));
        }
        catch (WorkflowFormatException e)
        {
            return [new WorkflowValidationError { Node = e.NodeId, Field = "spec.workflow", Message = e.Message }];
        }

        var errors = graph.Validate().Select(ToError).ToList();
        for (var i = 0; i < (spec.Inputs?.Count ?? 0); i++)
        {
            var input = spec.Inputs![i];
            var field = $"spec.inputs[{i}]";
            var kind = KindOf(input.Type);
            if (WorkflowBindings.Check(graph, input.Node, input.Input, kind) is { } issue)
            {
                errors.Add(issue.Code == WorkflowIssueCodes.BindingNodeMissing
                    ? new WorkflowValidationError { Node = input.Node, Field = field + ".node", Message = $"input '{input.Name}': {issue.Message}" }
                    : new WorkflowValidationError { Node = input.Node, Field = input.Input, Message = $"input '{input.Name}': {issue.Message}" });
                continue;
            }

            if (input.Default is { } value && !WorkflowBindings.Fits(JsonSerializer.SerializeToNode(value), kind))
            {
                errors.Add(new WorkflowValidationError { Node = input.Node, Field = field + ".default", Message = $"input '{input.Name}': default {value.GetRawText()} is not a {input.Type}" });
            }

            if (input.Min is { } min && input.Max is { } max && min > max)
            {
                errors.Add(new WorkflowValidationError { Node = input.Node, Field = field + ".min", Message = $"input '{input.Name}': min {min} is above max {max}" });
            }
        }

        for (var i = 0; i < (spec.Outputs?.Count ?? 0); i++)
        {
            var output = spec.Outputs![i];
            if (graph.GetNode(output.Node) is null)
            {
                errors.Add(new WorkflowValidationError { Node = output.Node, Field = $"spec.outputs[{i}].node", Message = $"output '{output.Name}' names node {output.Node}, which does not exist" });
            }
        }

        return errors;
    }

    private static WorkflowValidationError ToError(WorkflowIssue issue) => new()
    {
        Node = issue.NodeId,
        Field = issue.InputName ?? (issue.NodeId is null ? "spec.workflow" : null),
        Message = issue.Message,
    };

    private static WorkflowValueKind KindOf(string type) => type switch
    {
        WorkflowInputType.IntegerType => WorkflowValueKind.WholeNumber,
        WorkflowInputType.NumberType => WorkflowValueKind.Number,
        WorkflowInputType.BooleanType => WorkflowValueKind.Boolean,
        _ => WorkflowValueKind.Text,
    };
}
