using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>One queue tuple <c>[number, prompt_id, prompt, extra_data, outputs]</c> (docs/comfyui-protocol.md §3.2).</summary>
public sealed record ComfyQueueItem(
    double Number,
    string PromptId,
    JsonObject? Prompt,
    JsonObject? ExtraData,
    IReadOnlyList<string> OutputsToExecute)
{
    /// <summary><c>extra_data.client_id</c>: who submitted it.</summary>
    public string? ClientId => JsonRead.String(ExtraData, "client_id");

    internal static ComfyQueueItem? Parse(JsonNode? node)
    {
        if (node is not JsonArray array || array.Count < 2)
        {
            return null;
        }

        var id = JsonRead.String(array[1]);
        if (id is null)
        {
            return null;
        }

        return new ComfyQueueItem(
            JsonRead.Double(array[0]) ?? 0,
            id,
            array.Count > 2 ? array[2] as JsonObject : null,
            array.Count > 3 ? array[3] as JsonObject : null,
            array.Count > 4 ? JsonRead.StringList(array[4]) : []);
    }
}
