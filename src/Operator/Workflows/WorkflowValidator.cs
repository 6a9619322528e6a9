using System.Text.Json;
using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Workflows;

/// <summary>
/// Checks an API-format graph and the deployment's inputs/outputs against it: every node has a
/// <c>class_type</c> and <c>inputs</c>; links point at existing nodes; there is an output node;
/// every <c>inputs[]</c> entry names an existing node input whose current value fits the declared
/// type; outputs name existing nodes. Each error names the node and the field.
/// </summary>
internal static class WorkflowValidator
{
    /// <summary>Class types that produce files (the graph needs at least one).</summary>
    private static readonly HashSet<string> OutputClasses = new(StringComparer.Ordinal)
    {
        "SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveVideo", "SaveWEBM", "SaveAudio",
        "PreviewAudio", "SaveLatent", "SaveGLB", "Preview3D", "SaveImageWebsocket",
    };

    public static IReadOnlyList<WorkflowValidationError> Validate(JsonElement graph, WorkflowDeploymentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<WorkflowValidationError>();
        if (graph.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new WorkflowValidationError { Field = "spec.workflow", Message = "the workflow must be a JSON object of nodes (API format)" });
            return errors;
        }

        var nodes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var node in graph.EnumerateObject())
        {
            nodes[node.Name] = node.Value;
        }

        if (nodes.Count > 0 && nodes.Values.Any(n => n.ValueKind == JsonValueKind.Object && n.TryGetProperty("links", out _)) && graph.TryGetProperty("nodes", out _))
        {
            errors.Add(new WorkflowValidationError { Field = "spec.workflow", Message = "this is the editor's UI format; export it with \"Save (API Format)\"" });
            return errors;
        }

        var hasOutput = false;
        foreach (var (id, node) in nodes)
        {
            if (node.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new WorkflowValidationError { Node = id, Message = "a node must be an object with class_type and inputs" });
                continue;
            }

            if (!node.TryGetProperty("class_type", out var classType) || classType.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(classType.GetString()))
            {
                errors.Add(new WorkflowValidationError { Node = id, Field = "class_type", Message = "missing class_type" });
                continue;
            }

            hasOutput |= OutputClasses.Contains(classType.GetString()!);
            if (!node.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new WorkflowValidationError { Node = id, Field = "inputs", Message = $"{classType.GetString()} has no inputs object" });
                continue;
            }

            foreach (var input in inputs.EnumerateObject())
            {
                if (input.Value.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                var link = input.Value.EnumerateArray().ToList();
                if (link.Count == 2 && link[1].ValueKind == JsonValueKind.Number && link[0].ValueKind is JsonValueKind.String or JsonValueKind.Number)
                {
                    var target = link[0].ValueKind == JsonValueKind.String ? link[0].GetString()! : link[0].GetRawText();
                    if (!nodes.ContainsKey(target))
                    {
                        errors.Add(new WorkflowValidationError { Node = id, Field = input.Name, Message = $"links to node {target}, which does not exist" });
                    }
                }
            }
        }

        if (nodes.Count == 0)
        {
            errors.Add(new WorkflowValidationError { Field = "spec.workflow", Message = "the workflow has no nodes" });
        }
        else if (!hasOutput)
        {
            errors.Add(new WorkflowValidationError { Field = "spec.workflow", Message = "the workflow has no output node (SaveImage, PreviewImage...)" });
        }

        for (var i = 0; i < (spec.Inputs?.Count ?? 0); i++)
        {
            var input = spec.Inputs![i];
            var field = $"spec.inputs[{i}]";
            if (!nodes.TryGetValue(input.Node, out var node) || node.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new WorkflowValidationError { Node = input.Node, Field = field + ".node", Message = $"input '{input.Name}' points at node {input.Node}, which does not exist" });
                continue;
            }

            if (!node.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Object || !inputs.TryGetProperty(input.Input, out var current))
            {
                errors.Add(new WorkflowValidationError { Node = input.Node, Field = input.Input, Message = $"input '{input.Name}': node {input.Node} has no input '{input.Input}'" });
                continue;
            }

            if (current.ValueKind == JsonValueKind.Array)
            {
                errors.Add(new WorkflowValidationError { Node = input.Node, Field = input.Input, Message = $"input '{input.Name}': {input.Input} is fed by a link, not a value" });
                continue;
            }

            if (!Fits(current, input.Type))
            {
                errors.Add(new WorkflowValidationError { Node = input.Node, Field = input.Input, Message = $"input '{input.Name}' is declared {input.Type} but the graph holds {Describe(current)}" });
            }

            if (input.Default is { } value && !Fits(value, input.Type))
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
            if (!nodes.ContainsKey(output.Node))
            {
                errors.Add(new WorkflowValidationError { Node = output.Node, Field = $"spec.outputs[{i}].node", Message = $"output '{output.Name}' names node {output.Node}, which does not exist" });
            }
        }

        return errors;
    }

    private static bool Fits(JsonElement value, string type) => type switch
    {
        WorkflowInputType.IntegerType => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        WorkflowInputType.NumberType => value.ValueKind == JsonValueKind.Number,
        WorkflowInputType.BooleanType => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        WorkflowInputType.StringType or WorkflowInputType.ImageType => value.ValueKind == JsonValueKind.String,
        _ => false,
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.TryGetInt64(out _) ? "an integer" : "a number",
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}
