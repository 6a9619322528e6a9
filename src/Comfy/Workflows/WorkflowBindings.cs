using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Workflows;

/// <summary>
/// Checks that a value from outside (a declared workflow input, a run's argument) can be bound to a
/// node input of a graph: the node exists, has the input, the input holds a literal (not a link) and
/// that literal is of the declared kind. Without an object_info the graph's current literal is the
/// only type evidence there is, the same evidence the editor's export carries.
/// </summary>
public static class WorkflowBindings
{
    /// <summary>The problem with binding a <paramref name="kind"/> value to <paramref name="nodeId"/>.<paramref name="inputName"/>, or null.</summary>
    public static WorkflowIssue? Check(WorkflowGraph graph, string nodeId, string inputName, WorkflowValueKind kind)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.GetNode(nodeId) is not { } node)
        {
            return new WorkflowIssue(WorkflowIssueCodes.BindingNodeMissing, nodeId, null,
                $"Node #{nodeId} is not in the workflow.");
        }

        if (!node.HasInput(inputName))
        {
            var known = node.InputNames.Count == 0 ? "none" : string.Join(", ", node.InputNames);
            return new WorkflowIssue(WorkflowIssueCodes.BindingInputMissing, nodeId, inputName,
                $"Node #{nodeId} ({node.ClassType}) has no input '{inputName}' (it has: {known}).");
        }

        var current = node.GetInput(inputName);
        if (current is JsonArray)
        {
            return new WorkflowIssue(WorkflowIssueCodes.BindingToLink, nodeId, inputName,
                $"Node #{nodeId} ({node.ClassType}) input '{inputName}' is fed by a link, not a value, so nothing can be bound to it.");
        }

        return Fits(current, kind)
            ? null
            : new WorkflowIssue(WorkflowIssueCodes.BindingTypeMismatch, nodeId, inputName,
                $"Node #{nodeId} ({node.ClassType}) input '{inputName}' holds {Describe(current)}, not {Describe(kind)}.");
    }

    /// <summary>True when <paramref name="value"/> is of <paramref name="kind"/>.</summary>
    public static bool Fits(JsonNode? value, WorkflowValueKind kind) => kind switch
    {
        WorkflowValueKind.WholeNumber => JsonRead.IsInteger(value),
        WorkflowValueKind.Number => JsonRead.IsNumber(value),
        WorkflowValueKind.Boolean => JsonRead.IsBool(value),
        WorkflowValueKind.Text => JsonRead.IsString(value),
        _ => false,
    };

    private static string Describe(WorkflowValueKind kind) => kind switch
    {
        WorkflowValueKind.WholeNumber => "an integer",
        WorkflowValueKind.Number => "a number",
        WorkflowValueKind.Boolean => "a boolean",
        _ => "a string",
    };

    private static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        _ when JsonRead.IsInteger(value) => "an integer",
        _ when JsonRead.IsNumber(value) => "a number",
        _ when JsonRead.IsString(value) => "a string",
        _ when JsonRead.IsBool(value) => "a boolean",
        JsonObject => "an object",
        _ => "a list",
    };
}
