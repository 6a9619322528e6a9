using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// Checks a run's values against the workflow's <c>inputs[]</c> (known name, required, type,
/// min/max, enum; image = http(s) URL, data: URI or <c>cache:</c> name) and writes them into a copy
/// of the graph at <c>graph[node].inputs[input]</c>. Output nodes not named in <c>outputs[]</c> are
/// dropped, so they neither run nor produce files.
/// </summary>
internal static class WorkflowInputBinder
{
    public const string CachePrefix = "cache:";

    public static BoundRun Bind(WorkflowDefinition workflow, IReadOnlyDictionary<string, JsonNode?> values, out InputError? error)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(values);
        error = null;
        var byName = workflow.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        foreach (var name in values.Keys.Order(StringComparer.Ordinal))
        {
            if (!byName.ContainsKey(name))
            {
                error = new InputError(name, InputRules.Unknown,
                    $"'{name}' is not an input of workflow '{workflow.Name}'; its inputs are {string.Join(", ", workflow.Inputs.Select(i => i.Name))}.");
                return Empty;
            }
        }

        var resolved = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var input in workflow.Inputs)
        {
            values.TryGetValue(input.Name, out var value);
            if (value is null && input.Default is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } fallback)
            {
                value = JsonNode.Parse(fallback.GetRawText());
            }

            if (value is null)
            {
                if (input.Required)
                {
                    error = new InputError(input.Name, InputRules.Required, $"'{input.Name}' is required ({Describe(input)}).");
                    return Empty;
                }

                continue;
            }

            if (Check(input, value) is { } problem)
            {
                error = problem;
                return Empty;
            }

            resolved[input.Name] = value;
        }

        var variant = workflow.SelectGraph!(resolved.Keys.ToHashSet(StringComparer.Ordinal));
        var graph = variant.Graph;
        foreach (var (name, value) in resolved)
        {
            if (!variant.Targets.TryGetValue(name, out var targets))
            {
                continue;
            }

            foreach (var target in targets)
            {
                // A preset input for a part of the graph this variant does not have (width with init_image) changes nothing.
                if (graph[target.Node]?["inputs"] is JsonObject nodeInputs)
                {
                    nodeInputs[target.Input] = value?.DeepClone();
                }
            }
        }

        LimitOutputs(graph, workflow.Outputs);
        return new BoundRun(graph, resolved);
    }

    /// <summary>Removes output nodes not listed in <paramref name="outputs"/> (none listed = keep all).</summary>
    public static void LimitOutputs(JsonObject graph, IReadOnlyList<WorkflowOutput> outputs)
    {
        if (outputs.Count == 0)
        {
            return;
        }

        var keep = outputs.Select(o => o.Node).ToHashSet(StringComparer.Ordinal);
        var drop = graph
            .Where(p => !keep.Contains(p.Key) && p.Value?["class_type"] is JsonValue v && v.TryGetValue<string>(out var c) && OutputNodeClasses.Known.Contains(c))
            .Select(p => p.Key)
            .ToList();
        foreach (var id in drop)
        {
            graph.Remove(id);
        }
    }

    private static readonly BoundRun Empty = new([], new Dictionary<string, JsonNode?>());

    private static InputError? Check(WorkflowInput input, JsonNode value)
    {
        var kind = value.GetValueKind();
        switch (input.Type)
        {
            case WorkflowInputType.IntegerType:
                if (kind != JsonValueKind.Number || !IsWhole(value, out var whole))
                {
                    return TypeError(input, value, "a whole number");
                }

                return Bounds(input, whole);
            case WorkflowInputType.NumberType:
                if (kind != JsonValueKind.Number)
                {
                    return TypeError(input, value, "a number");
                }

                return Bounds(input, value.GetValue<double>());
            case WorkflowInputType.BooleanType:
                return kind is JsonValueKind.True or JsonValueKind.False ? null : TypeError(input, value, "true or false");
            case WorkflowInputType.ImageType:
                if (kind != JsonValueKind.String)
                {
                    return TypeError(input, value, "a string: an http(s) URL, a data: URI, or a file part in a multipart request");
                }

                var text = value.GetValue<string>();
                return IsImageReference(text)
                    ? null
                    : new InputError(input.Name, InputRules.Format, $"'{input.Name}' must be an http(s) URL, a data: URI or an uploaded file, not '{Shorten(text)}'.");
            default:
                if (kind != JsonValueKind.String)
                {
                    return TypeError(input, value, "a string");
                }

                var s = value.GetValue<string>();
                if (input.Enum is { Count: > 0 } allowed && !allowed.Contains(s, StringComparer.Ordinal))
                {
                    return new InputError(input.Name, InputRules.Enum, $"'{input.Name}' must be one of {string.Join(", ", allowed)}, not '{Shorten(s)}'.");
                }

                return null;
        }
    }

    public static bool IsImageReference(string text) =>
        text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && text.Contains(',', StringComparison.Ordinal))
        || (text.StartsWith(CachePrefix, StringComparison.Ordinal) && text.Length > CachePrefix.Length);

    private static bool IsWhole(JsonNode value, out double whole)
    {
        var raw = value.ToJsonString();
        if (decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && decimal.Truncate(d) == d)
        {
            whole = (double)d;
            return true;
        }

        whole = 0;
        return false;
    }

    private static InputError? Bounds(WorkflowInput input, double number)
    {
        if (input.Min is { } min && number < min)
        {
            return new InputError(input.Name, InputRules.Min, $"'{input.Name}' must be at least {Format(min)}, not {Format(number)}.");
        }

        if (input.Max is { } max && number > max)
        {
            return new InputError(input.Name, InputRules.Max, $"'{input.Name}' must be at most {Format(max)}, not {Format(number)}.");
        }

        return null;
    }

    private static InputError TypeError(WorkflowInput input, JsonNode value, string expected) =>
        new(input.Name, InputRules.Type, $"'{input.Name}' must be {expected} ({input.Type}), not {Shorten(value.ToJsonString())}.");

    private static string Describe(WorkflowInput input) =>
        input.Description is { Length: > 0 } d ? $"{input.Type}: {d}" : input.Type;

    private static string Format(double value) => value.ToString("0.################", CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
