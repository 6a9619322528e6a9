using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Nodes;

/// <summary>One node class of /object_info.</summary>
/// <param name="Name">The class_type.</param>
/// <param name="DisplayName">Display name.</param>
/// <param name="Category">Menu category.</param>
/// <param name="IsOutputNode"><c>output_node</c>: execution starts from these.</param>
/// <param name="Outputs">Output types, by index (a link's output index must be below its count).</param>
/// <param name="Inputs">Declared inputs by name.</param>
/// <param name="Raw">The class info as sent.</param>
public sealed record ComfyNodeInfo(
    string Name,
    string? DisplayName,
    string? Category,
    bool IsOutputNode,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, ComfyInputSpec> Inputs,
    JsonObject Raw)
{
    public IEnumerable<ComfyInputSpec> RequiredInputs => Inputs.Values.Where(i => i.Category == ComfyInputCategory.Required);

    internal static ComfyNodeInfo Parse(string name, JsonObject info)
    {
        var inputs = new Dictionary<string, ComfyInputSpec>(StringComparer.Ordinal);
        var input = JsonRead.Object(info, "input");
        AddInputs(inputs, JsonRead.Object(input, "required"), ComfyInputCategory.Required);
        AddInputs(inputs, JsonRead.Object(input, "optional"), ComfyInputCategory.Optional);
        AddInputs(inputs, JsonRead.Object(input, "hidden"), ComfyInputCategory.Hidden);

        var outputs = new List<string>();
        if (JsonRead.Array(info, "output") is { } array)
        {
            foreach (var o in array)
            {
                // A combo output is a list of choices; keep a placeholder so indices stay right.
                outputs.Add(JsonRead.String(o) ?? ComfyInputSpec.ComboType);
            }
        }

        return new ComfyNodeInfo(
            JsonRead.String(info, "name") ?? name,
            JsonRead.String(info, "display_name"),
            JsonRead.String(info, "category"),
            JsonRead.Bool(info, "output_node") ?? false,
            outputs,
            inputs,
            info);
    }

    private static void AddInputs(Dictionary<string, ComfyInputSpec> inputs, JsonObject? block, ComfyInputCategory category)
    {
        if (block is null)
        {
            return;
        }

        foreach (var (name, declaration) in block)
        {
            inputs.TryAdd(name, ComfyInputSpec.Parse(name, category, declaration));
        }
    }
}
