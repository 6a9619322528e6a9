using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// The server's queue tuple <c>(number, prompt_id, prompt, extra_data, outputs_to_execute)</c>.
/// <paramref name="NumberJson"/> keeps how the number prints (int counter, or Python float when the client gave one).
/// </summary>
internal sealed record QueueItem(double Number, string NumberJson, string PromptId, JsonObject Prompt, JsonObject ExtraData, IReadOnlyList<string> Outputs)
{
    public string? ClientId => ExtraData["client_id"] is JsonNode node ? PythonText.Str(node) : null;

    /// <summary>Heap order: number, then prompt_id (Python compares the tuples).</summary>
    public int CompareTo(QueueItem other)
    {
        var byNumber = Number.CompareTo(other.Number);
        return byNumber != 0 ? byNumber : string.CompareOrdinal(PromptId, other.PromptId);
    }

    public JsonArray ToJson(bool withoutSecrets = false)
    {
        var extra = (JsonObject)ExtraData.DeepClone();
        if (withoutSecrets)
        {
            extra.Remove("auth_token_comfy_org");
            extra.Remove("api_key_comfy_org");
        }

        return new JsonArray(
            JsonNode.Parse(NumberJson),
            PromptId,
            Prompt.DeepClone(),
            extra,
            new JsonArray([.. Outputs.Select(o => (JsonNode)o)]));
    }
}
