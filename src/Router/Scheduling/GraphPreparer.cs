using System.Text.Json.Nodes;
using ComfyOperator.Router.Outputs;

namespace ComfyOperator.Router.Scheduling;

/// <summary>
/// Makes the graph a worker receives: a copy of the submitted one where every
/// <c>filename_prefix</c> is unique to the run and attempt, so workers sharing an output volume
/// never race on file names (docs/comfyui-protocol.md §9.4) and a re-run never hits ComfyUI's cache of the
/// save node with an old file name.
/// </summary>
internal static class GraphPreparer
{
    public const string PrefixRoot = "comfy-router";

    public static JsonObject Prepare(string workflow, string runId, int attempt)
    {
        var graph = JsonNode.Parse(workflow)?.AsObject() ?? throw new InvalidOperationException("The stored workflow is not a JSON object.");
        foreach (var (_, node) in graph)
        {
            if (node?["inputs"] is JsonObject inputs && inputs["filename_prefix"] is JsonValue value && value.TryGetValue<string>(out var prefix))
            {
                inputs["filename_prefix"] = $"{PrefixRoot}/{runId}-{attempt}/{OutputNames.Sanitize(prefix)}";
            }
        }

        return graph;
    }
}
