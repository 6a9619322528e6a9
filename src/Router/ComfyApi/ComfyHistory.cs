using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Runs;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>Runs in ComfyUI's shapes: <c>/queue</c> items and <c>/history</c> entries (docs/comfyui-protocol.md §4).</summary>
internal static class ComfyHistory
{
    /// <summary>
    /// <c>[number, prompt_id, prompt, extra_data, outputs_to_execute]</c>; the number is the run's place in submission
    /// order; <c>extra_data</c> is the stored one (with the client id) when <paramref name="withExtraData"/>, else empty.
    /// </summary>
    public static JsonArray QueueItem(RunRecord run, bool withExtraData)
    {
        var graph = RunGraph.TryParse(run.Workflow);
        JsonNode? prompt;
        try
        {
            prompt = JsonNode.Parse(run.Workflow);
        }
        catch (JsonException)
        {
            prompt = new JsonObject();
        }

        return
        [
            run.Sequence,
            run.Id,
            prompt,
            (withExtraData ? ExtraData(run) : null) ?? new JsonObject(),
            new JsonArray([.. (graph?.Graph.FindOutputNodes() ?? []).Select(n => (JsonNode)n.Id)]),
        ];
    }

    /// <summary>The <c>extra_data</c> the run was submitted with (its client id included), or null.</summary>
    public static JsonObject? ExtraData(RunRecord run)
    {
        if (run.ExtraData is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(run.ExtraData) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The stored outputs of run <paramref name="runId"/> by node, each node's as ComfyUI's UI dict
    /// (<c>{"images": [{filename, subfolder, type}]}</c>) under the names <c>/view</c> serves: a history entry's
    /// <c>outputs</c> and the <c>executed</c> messages of a prompt another replica drove.
    /// </summary>
    public static IEnumerable<(string NodeId, JsonObject Output)> Outputs(string runId, IEnumerable<RunOutput> produced)
    {
        foreach (var group in produced.GroupBy(o => o.NodeId, StringComparer.Ordinal))
        {
            var byKind = new JsonObject();
            foreach (var output in group)
            {
                AddFile(byKind, output.ContentType, output.Name, runId, "output");
            }

            yield return (group.Key, byKind);
        }
    }

    /// <summary>Lists a file in a node's UI dict <paramref name="byKind"/>, under the key its <paramref name="contentType"/> goes by.</summary>
    public static void AddFile(JsonObject byKind, string contentType, string filename, string subfolder, string type)
    {
        var kind = contentType.StartsWith("image/", StringComparison.Ordinal) ? "images"
            : contentType.StartsWith("video/", StringComparison.Ordinal) ? "video"
            : contentType.StartsWith("audio/", StringComparison.Ordinal) ? "audio"
            : "files";
        if (byKind[kind] is not JsonArray list)
        {
            byKind[kind] = list = [];
        }

        list.Add(new JsonObject { ["filename"] = filename, ["subfolder"] = subfolder, ["type"] = type });
    }

    /// <summary>A finished run as <c>/history/{prompt_id}</c> shows it: outputs under the names <c>/view</c> serves (subfolder = prompt id).</summary>
    public static JsonObject Entry(RunRecord run)
    {
        var outputs = new JsonObject();
        var meta = new JsonObject();
        foreach (var (nodeId, output) in Outputs(run.Id, run.Outputs))
        {
            outputs[nodeId] = output;
            meta[nodeId] = new JsonObject { ["node_id"] = nodeId, ["display_node"] = nodeId, ["parent_node"] = null, ["real_node_id"] = nodeId };
        }

        var succeeded = run.Status == RunStatus.Succeeded;
        var messages = new JsonArray();
        if (run.StartedAt is { } started)
        {
            messages.Add(new JsonArray("execution_start", new JsonObject { ["prompt_id"] = run.Id, ["timestamp"] = started.ToUnixTimeMilliseconds() }));
        }

        var finished = (run.FinishedAt ?? run.QueuedAt).ToUnixTimeMilliseconds();
        messages.Add(run.Status switch
        {
            RunStatus.Succeeded => new JsonArray("execution_success", new JsonObject { ["prompt_id"] = run.Id, ["timestamp"] = finished }),
            RunStatus.Cancelled => new JsonArray("execution_interrupted", new JsonObject
            {
                ["prompt_id"] = run.Id,
                ["node_id"] = null,
                ["node_type"] = null,
                ["executed"] = new JsonArray(),
                ["timestamp"] = finished,
            }),
            _ => new JsonArray("execution_error", new JsonObject
            {
                ["prompt_id"] = run.Id,
                ["node_id"] = run.Failure?.NodeId,
                ["node_type"] = run.Failure?.NodeType,
                ["executed"] = new JsonArray(),
                ["exception_message"] = run.Failure?.Message ?? run.Reason,
                ["exception_type"] = run.Failure?.ExceptionType ?? run.Failure?.Code,
                ["traceback"] = new JsonArray(),
                ["current_inputs"] = new JsonObject(),
                ["current_outputs"] = new JsonArray(),
                ["timestamp"] = finished,
            }),
        });

        return new JsonObject
        {
            ["prompt"] = QueueItem(run, withExtraData: false),
            ["outputs"] = outputs,
            ["status"] = new JsonObject { ["status_str"] = succeeded ? "success" : "error", ["completed"] = succeeded, ["messages"] = messages },
            ["meta"] = meta,
        };
    }
}
