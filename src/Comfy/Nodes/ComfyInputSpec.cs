using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Nodes;

/// <summary>
/// One declared input of a node class: <c>name: [TYPE or [choices], {options}]</c> (docs/comfyui-protocol.md §4.5).
/// </summary>
/// <param name="Name">Input name.</param>
/// <param name="Category">Required, optional or hidden.</param>
/// <param name="Type">INT, FLOAT, STRING, BOOLEAN, COMBO (for choice lists), or a link type such as MODEL.</param>
/// <param name="Choices">The allowed values of a combo (e.g. the model files of a folder); null otherwise.</param>
/// <param name="Options">The options object (default, min, max, step, tooltip...).</param>
public sealed record ComfyInputSpec(string Name, ComfyInputCategory Category, string Type, IReadOnlyList<string>? Choices, JsonObject? Options)
{
    public const string IntType = "INT";
    public const string FloatType = "FLOAT";
    public const string StringType = "STRING";
    public const string BooleanType = "BOOLEAN";
    public const string ComboType = "COMBO";

    public double? Min => JsonRead.Double(Options, "min");

    public double? Max => JsonRead.Double(Options, "max");

    /// <summary>True for the types a literal can carry (everything else must be a link).</summary>
    public bool IsWidget => Type is IntType or FloatType or StringType or BooleanType or ComboType;

    internal static ComfyInputSpec Parse(string name, ComfyInputCategory category, JsonNode? node)
    {
        var declaration = node as JsonArray;
        var first = declaration is { Count: > 0 } ? declaration[0] : node;
        var options = declaration is { Count: > 1 } ? declaration[1] as JsonObject : null;

        if (first is JsonArray choices)
        {
            return new ComfyInputSpec(name, category, ComboType, JsonRead.StringList(choices), options);
        }

        var type = JsonRead.String(first) ?? "*";

        // Newer V3 nodes declare combos as ["COMBO", {"options": [...]}].
        if (type == ComboType)
        {
            return new ComfyInputSpec(name, category, ComboType, JsonRead.StringList(options?["options"]), options);
        }

        return new ComfyInputSpec(name, category, type, null, options);
    }
}
