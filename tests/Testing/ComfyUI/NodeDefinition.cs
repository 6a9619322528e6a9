using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>A simulated node class: its object_info declaration (V1 shape).</summary>
internal sealed record NodeDefinition(
    string Name,
    string DisplayName,
    string Category,
    string Description,
    string PythonModule,
    bool OutputNode,
    IReadOnlyList<InputSpec> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<string>? OutputNames = null,
    IReadOnlyList<string>? OutputTooltips = null,
    string? ValidatesInput = null,
    bool NotIdempotent = false)
{
    public IEnumerable<InputSpec> Declared => Inputs.Where(i => i.Category != "hidden");

    public JsonObject ObjectInfo(ModelFolders folders)
    {
        var input = new JsonObject();
        var order = new JsonObject();
        foreach (var category in new[] { "required", "optional", "hidden" })
        {
            var inCategory = Inputs.Where(i => i.Category == category).ToList();
            if (inCategory.Count == 0 && category != "required")
            {
                continue;
            }

            var section = new JsonObject();
            foreach (var spec in inCategory)
            {
                section[spec.Name] = category == "hidden" ? new JsonArray(spec.Type!) : spec.Declaration(folders);
            }

            input[category] = section;
            order[category] = new JsonArray([.. inCategory.Select(i => (JsonNode)i.Name)]);
        }

        // Hidden inputs are declared as a bare type string, e.g. "prompt": "PROMPT".
        if (input["hidden"] is JsonObject hidden)
        {
            foreach (var key in hidden.Select(p => p.Key).ToList())
            {
                hidden[key] = Inputs.First(i => i.Name == key).Type;
            }
        }

        var info = new JsonObject
        {
            ["input"] = input,
            ["input_order"] = order,
            ["output"] = new JsonArray([.. Outputs.Select(o => (JsonNode)o)]),
            ["output_is_list"] = new JsonArray([.. Outputs.Select(_ => (JsonNode)false)]),
            ["output_name"] = new JsonArray([.. (OutputNames ?? Outputs).Select(o => (JsonNode)o)]),
            ["name"] = Name,
            ["display_name"] = DisplayName,
            ["description"] = Description,
            ["python_module"] = PythonModule,
            ["category"] = Category,
            ["output_node"] = OutputNode,
        };
        if (OutputTooltips is not null)
        {
            info["output_tooltips"] = new JsonArray([.. OutputTooltips.Select(o => (JsonNode)o)]);
        }

        return info;
    }
}
