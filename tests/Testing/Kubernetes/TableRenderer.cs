using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>meta.k8s.io/v1 Table output for <c>kubectl get</c> (docs/kubernetes-api.md §1.6), with server-side ages.</summary>
internal static class TableRenderer
{
    public static bool WantsTable(string? accept) =>
        accept is not null && accept.Contains("as=Table", StringComparison.Ordinal);

    public static JsonObject Table(ResourceType type, IEnumerable<JsonObject> objects, string includeObject, DateTimeOffset now, string? resourceVersion, string? continueToken)
    {
        var meta = new JsonObject();
        if (resourceVersion is not null)
        {
            meta["resourceVersion"] = resourceVersion;
        }

        if (continueToken is not null)
        {
            meta["continue"] = continueToken;
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = meta,
            ["columnDefinitions"] = Columns(type),
            ["rows"] = new JsonArray(objects.Select(o => (JsonNode?)Row(type, o, includeObject, now)).ToArray()),
        };
    }

    private static JsonArray Columns(ResourceType type)
    {
        var columns = new JsonArray(new JsonObject
        {
            ["name"] = "Name",
            ["type"] = "string",
            ["format"] = "name",
            ["description"] = "Name must be unique within a namespace.",
            ["priority"] = 0,
        });
        foreach (var c in type.Columns)
        {
            columns.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format ?? "",
                ["description"] = c.Description,
                ["priority"] = c.Priority,
            });
        }

        return columns;
    }

    private static JsonObject Row(ResourceType type, JsonObject obj, string includeObject, DateTimeOffset now)
    {
        var cells = new JsonArray(obj["metadata"]?["name"]?.DeepClone());
        foreach (var c in type.Columns)
        {
            cells.Add(Cell(c, obj, now));
        }

        var row = new JsonObject { ["cells"] = cells };
        switch (includeObject)
        {
            case "None":
                break;
            case "Object":
                row["object"] = obj.DeepClone();
                break;
            default:
                row["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = obj["metadata"]?.DeepClone(),
                };
                break;
        }

        return row;
    }

    private static JsonNode? Cell(PrinterColumn column, JsonObject obj, DateTimeOffset now)
    {
        List<JsonNode?> values;
        try
        {
            values = JsonPathLite.Evaluate(obj, column.JsonPath);
        }
        catch (FormatException)
        {
            return null;
        }

        if (values.Count == 0 || values[0] is null)
        {
            return column.Type == "date" ? "<unknown>" : null;
        }

        var first = values[0]!;
        var kind = first.GetValueKind();
        switch (column.Type)
        {
            case "integer":
                return kind == JsonValueKind.Number && first.AsValue().TryGetValue<long>(out var l) ? l : null;
            case "number":
                return kind == JsonValueKind.Number ? first.GetValue<double>() : null;
            case "boolean":
                return kind is JsonValueKind.True or JsonValueKind.False ? first.GetValue<bool>() : null;
            case "date":
                return kind == JsonValueKind.String && DateTimeOffset.TryParse(first.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                    ? HumanDuration.Format(now - t)
                    : null;
            default:
                return JsonPathLite.Text(values);
        }
    }
}
