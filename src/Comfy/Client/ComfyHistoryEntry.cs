using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>One history entry (docs/comfyui-protocol.md §3.6).</summary>
/// <param name="PromptId">The prompt id.</param>
/// <param name="Prompt">The queue tuple the prompt ran with.</param>
/// <param name="Outputs">Node id → UI output, in the server's order.</param>
/// <param name="Status">The status block; null on servers that omit it.</param>
/// <param name="Meta">The <c>meta</c> object as sent.</param>
/// <param name="Raw">The whole entry as sent.</param>
public sealed record ComfyHistoryEntry(
    string PromptId,
    ComfyQueueItem? Prompt,
    IReadOnlyList<ComfyNodeOutput> Outputs,
    ComfyHistoryStatus? Status,
    JsonObject? Meta,
    JsonObject Raw)
{
    /// <summary>Every file of every output node.</summary>
    public IEnumerable<ComfyFileRef> Files => Outputs.SelectMany(o => o.Files);

    /// <summary>How the run ended according to this entry.</summary>
    public ComfyPromptOutcome Outcome => Status?.Outcome ?? ComfyPromptOutcome.Success;

    internal static ComfyHistoryEntry Parse(string promptId, JsonObject entry)
    {
        var outputs = new List<ComfyNodeOutput>();
        if (JsonRead.Object(entry, "outputs") is { } outputsObj)
        {
            foreach (var (nodeId, value) in outputsObj)
            {
                if (value is JsonObject output)
                {
                    outputs.Add(new ComfyNodeOutput(nodeId, ComfyOutputFiles.Extract(output), output));
                }
            }
        }

        ComfyHistoryStatus? status = null;
        if (JsonRead.Object(entry, "status") is { } statusObj)
        {
            var messages = new List<ComfyEvent>();
            if (JsonRead.Array(statusObj, "messages") is { } array)
            {
                foreach (var m in array)
                {
                    if (m is JsonArray pair && pair.Count >= 2 && JsonRead.String(pair[0]) is { } type)
                    {
                        messages.Add(ComfyMessageParser.Parse(type, pair[1]));
                    }
                }
            }

            status = new ComfyHistoryStatus(
                JsonRead.String(statusObj, "status_str"),
                JsonRead.Bool(statusObj, "completed") ?? false,
                messages);
        }

        return new ComfyHistoryEntry(
            promptId,
            ComfyQueueItem.Parse(entry["prompt"]),
            outputs,
            status,
            JsonRead.Object(entry, "meta"),
            entry);
    }
}
