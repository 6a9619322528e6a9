using System.ComponentModel;

namespace ComfyOperator.Entities;

/// <summary>One reason a workflow is Invalid.</summary>
[Description("A validation error, naming the node and field it is about.")]
public sealed record WorkflowValidationError
{
    [Description("Graph node id, when the error is about a node.")]
    public string? Node { get; init; }

    [Description("Field: a node input name, or a spec path such as spec.inputs[0].node.")]
    public string? Field { get; init; }

    [Description("What is wrong.")]
    public string Message { get; init; } = string.Empty;

    public override string ToString() =>
        (Node, Field) switch
        {
            ({ } node, { } field) => $"node {node}, {field}: {Message}",
            ({ } node, null) => $"node {node}: {Message}",
            (null, { } field) => $"{field}: {Message}",
            _ => Message,
        };
}
