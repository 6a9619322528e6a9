using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>The errors of one node in <c>node_errors</c> (docs/comfyui-protocol.md §2.4).</summary>
/// <param name="NodeId">The node id (key of node_errors).</param>
/// <param name="ClassType">The node's class_type, as the server reports it.</param>
/// <param name="Errors">The node's own errors.</param>
/// <param name="DependentOutputs">The output nodes that were dropped because of this node.</param>
public sealed record ComfyNodeError(
    string NodeId,
    string? ClassType,
    IReadOnlyList<ComfyErrorDetail> Errors,
    IReadOnlyList<string> DependentOutputs)
{
    internal static IReadOnlyDictionary<string, ComfyNodeError> ParseAll(JsonNode? node)
    {
        var result = new Dictionary<string, ComfyNodeError>(StringComparer.Ordinal);
        if (node is not JsonObject obj)
        {
            return result;
        }

        foreach (var (id, value) in obj)
        {
            var entry = value as JsonObject;
            var errors = new List<ComfyErrorDetail>();
            if (JsonRead.Array(entry, "errors") is { } array)
            {
                foreach (var e in array)
                {
                    errors.Add(ComfyErrorDetail.Parse(e));
                }
            }

            result[id] = new ComfyNodeError(
                id,
                JsonRead.String(entry, "class_type"),
                errors,
                JsonRead.StringList(entry?["dependent_outputs"]));
        }

        return result;
    }

    public override string ToString() =>
        $"node {NodeId}{(ClassType is null ? "" : $" ({ClassType})")}: {string.Join("; ", Errors)}";
}
