using System.Text.Json;

namespace ComfyOperator.Router.Runs;

/// <summary>
/// Checks that a submitted workflow is an API-format graph (protocol doc §6): an object of nodes,
/// each with a string <c>class_type</c> and an object <c>inputs</c>, whose links
/// <c>["id", index]</c> point at nodes that exist. The editor's UI format (a <c>nodes</c> array,
/// <c>links</c>, <c>last_node_id</c>...) and a whole <c>/prompt</c> body are recognised and named.
/// </summary>
internal static class WorkflowValidator
{
    public static WorkflowProblem? Validate(JsonElement workflow)
    {
        if (workflow.ValueKind != JsonValueKind.Object)
        {
            return new WorkflowProblem($"'workflow' must be a JSON object of nodes keyed by id, got {Describe(workflow.ValueKind)}.", "workflow");
        }

        if (workflow.TryGetProperty("nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array)
        {
            return new WorkflowProblem(
                "This is a workflow in the editor's UI format (it has a 'nodes' array). Export it with 'Export (API)' in ComfyUI and submit that instead.",
                "workflow.nodes", IsUiFormat: true);
        }

        if (workflow.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.Object && !prompt.TryGetProperty("class_type", out _))
        {
            return new WorkflowProblem("This looks like a whole /prompt request body; put the graph under 'prompt' into 'workflow' instead.", "workflow.prompt");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var node in workflow.EnumerateObject())
        {
            count++;
            ids.Add(node.Name);
            var field = $"workflow.{node.Name}";
            if (node.Value.ValueKind != JsonValueKind.Object)
            {
                return new WorkflowProblem($"Node '{node.Name}' must be an object with 'class_type' and 'inputs', got {Describe(node.Value.ValueKind)}.", field, node.Name);
            }

            if (!node.Value.TryGetProperty("class_type", out var classType) || classType.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(classType.GetString()))
            {
                return new WorkflowProblem($"Node '{node.Name}' has no 'class_type' string.", field + ".class_type", node.Name);
            }

            if (!node.Value.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Object)
            {
                return new WorkflowProblem($"Node '{node.Name}' ({classType.GetString()}) has no 'inputs' object.", field + ".inputs", node.Name);
            }
        }

        if (count == 0)
        {
            return new WorkflowProblem("The workflow has no nodes.", "workflow");
        }

        foreach (var node in workflow.EnumerateObject())
        {
            foreach (var input in node.Value.GetProperty("inputs").EnumerateObject())
            {
                if (input.Value.ValueKind != JsonValueKind.Array || input.Value.GetArrayLength() != 2)
                {
                    continue;
                }

                var source = input.Value[0];
                var index = input.Value[1];
                var field = $"workflow.{node.Name}.inputs.{input.Name}";
                if (source.ValueKind == JsonValueKind.Number && index.ValueKind == JsonValueKind.Number)
                {
                    return new WorkflowProblem($"Input '{input.Name}' of node '{node.Name}' links to node {source.GetRawText()} with a number; node ids in links are strings, e.g. [\"{source.GetRawText()}\", {index.GetRawText()}].", field, node.Name);
                }

                if (source.ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                if (index.ValueKind != JsonValueKind.Number || !index.TryGetInt32(out var slot) || slot < 0)
                {
                    return new WorkflowProblem($"Input '{input.Name}' of node '{node.Name}' links to node '{source.GetString()}' with output index {index.GetRawText()}; the index must be a whole number ≥ 0.", field, node.Name);
                }

                if (!ids.Contains(source.GetString()!))
                {
                    return new WorkflowProblem($"Input '{input.Name}' of node '{node.Name}' links to node '{source.GetString()}', which is not in the workflow.", field, node.Name);
                }
            }
        }

        return null;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Undefined => "nothing",
        _ => "an object",
    };
}
