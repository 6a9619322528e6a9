using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// One declared node input: <paramref name="Type"/> for typed inputs ("INT", "MODEL"...), or
/// <paramref name="Choices"/> for combos whose value list is computed when asked (model folders change).
/// </summary>
internal sealed record InputSpec(
    string Name,
    string Category,
    string? Type,
    Func<ModelFolders, IReadOnlyList<string>>? Choices,
    string OptionsJson)
{
    public bool IsCombo => Choices is not null;

    public JsonObject Options() => (JsonObject)JsonNode.Parse(OptionsJson)!;

    /// <summary>The declaration as object_info and <c>input_config</c> show it: <c>[type or choices, options]</c>.</summary>
    public JsonArray Declaration(ModelFolders folders)
    {
        JsonNode type = Choices is not null ? new JsonArray([.. Choices(folders).Select(c => (JsonNode)c)]) : Type!;
        return new JsonArray(type, Options());
    }
}
