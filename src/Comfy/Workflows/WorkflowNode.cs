using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Workflows;

/// <summary>A read-only view of one node of a <see cref="WorkflowGraph"/>. Change inputs through the graph.</summary>
public sealed class WorkflowNode
{
    private readonly JsonObject _node;

    internal WorkflowNode(string id, JsonObject node)
    {
        Id = id;
        _node = node;
        ClassType = JsonRead.String(node, "class_type") ?? "";
    }

    /// <summary>The node id (an opaque string; subgraph exports use ids like "41:38").</summary>
    public string Id { get; }

    public string ClassType { get; }

    /// <summary><c>_meta.title</c>, what the user named the node in the editor.</summary>
    public string? Title => JsonRead.String(JsonRead.Object(_node, "_meta"), "title");

    public IReadOnlyCollection<string> InputNames => Inputs is { } inputs ? [.. inputs.Select(p => p.Key)] : [];

    internal JsonObject? Inputs => _node["inputs"] as JsonObject;

    /// <summary>The inputs that hold a literal string (model files, prompts, input files, URLs), in document order.</summary>
    public IEnumerable<(string Name, string Value)> StringInputs()
    {
        if (Inputs is not { } inputs)
        {
            yield break;
        }

        foreach (var (name, value) in inputs)
        {
            if (JsonRead.IsString(value) && JsonRead.String(value) is { } text)
            {
                yield return (name, text);
            }
        }
    }

    /// <summary>The raw input value (a literal, or a 2-element link array); a copy, so changing it changes nothing.</summary>
    public JsonNode? GetInput(string name) => Inputs?[name]?.DeepClone();

    public bool HasInput(string name) => Inputs?.ContainsKey(name) ?? false;

    /// <summary>The literal string value of an input, or null when absent or not a string.</summary>
    public string? GetString(string name) => Inputs?[name] is { } v && JsonRead.IsString(v) ? JsonRead.String(v) : null;

    /// <summary>The link an input holds, when it holds a well-formed one.</summary>
    public WorkflowLink? GetLink(string name) => WorkflowGraph.AsLink(Inputs?[name]);

    public override string ToString() => Title is { } t ? $"#{Id} {ClassType} \"{t}\"" : $"#{Id} {ClassType}";
}
