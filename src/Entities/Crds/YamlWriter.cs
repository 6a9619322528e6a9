using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ComfyOperator.Entities.Crds;

/// <summary>
/// A small, deterministic JSON-to-YAML writer (block style, two-space indent). Strings that could
/// read as anything but a string in YAML are written JSON-quoted, which is valid YAML.
/// </summary>
internal static partial class YamlWriter
{
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~",
    };

    public static string Write(JsonNode node)
    {
        var builder = new StringBuilder();
        WriteNode(builder, node, 0, inSequence: false);
        return builder.ToString();
    }

    private static void WriteNode(StringBuilder builder, JsonNode? node, int indent, bool inSequence)
    {
        switch (node)
        {
            case JsonObject obj:
                WriteObject(builder, obj, indent, inSequence);
                break;
            case JsonArray array:
                WriteArray(builder, array, indent);
                break;
            default:
                builder.Append(Scalar(node)).Append('\n');
                break;
        }
    }

    private static void WriteObject(StringBuilder builder, JsonObject obj, int indent, bool inSequence)
    {
        var first = true;
        foreach (var (key, value) in obj)
        {
            if (!(first && inSequence))
            {
                builder.Append(' ', indent);
            }

            first = false;
            builder.Append(Key(key)).Append(':');
            switch (value)
            {
                case JsonObject child when child.Count > 0:
                    builder.Append('\n');
                    WriteObject(builder, child, indent + 2, inSequence: false);
                    break;
                case JsonObject:
                    builder.Append(" {}\n");
                    break;
                case JsonArray array when array.Count > 0:
                    builder.Append('\n');
                    WriteArray(builder, array, indent);
                    break;
                case JsonArray:
                    builder.Append(" []\n");
                    break;
                default:
                    builder.Append(' ').Append(Scalar(value)).Append('\n');
                    break;
            }
        }
    }

    private static void WriteArray(StringBuilder builder, JsonArray array, int indent)
    {
        foreach (var item in array)
        {
            builder.Append(' ', indent).Append("- ");
            switch (item)
            {
                case JsonObject child when child.Count > 0:
                    WriteObject(builder, child, indent + 2, inSequence: true);
                    break;
                case JsonArray nested when nested.Count > 0:
                    builder.Append('\n');
                    WriteArray(builder, nested, indent + 2);
                    break;
                default:
                    builder.Append(item switch
                    {
                        JsonObject => "{}",
                        JsonArray => "[]",
                        _ => Scalar(item),
                    }).Append('\n');
                    break;
            }
        }
    }

    private static string Key(string key) => PlainSafe().IsMatch(key) && !Reserved.Contains(key) ? key : Quote(key);

    private static string Scalar(JsonNode? node)
    {
        if (node is null)
        {
            return "null";
        }

        // Round-trip through JSON so values created from CLR primitives and parsed ones look alike.
        using var document = JsonDocument.Parse(node.ToJsonString());
        var element = document.RootElement;
        return element.ValueKind switch
        {
            JsonValueKind.String => String(element.GetString()!),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => element.GetRawText(),
            JsonValueKind.Null => "null",
            _ => throw new InvalidOperationException($"Unexpected scalar {element.ValueKind}."),
        };
    }

    private static string String(string value) =>
        PlainSafe().IsMatch(value) && !Reserved.Contains(value) && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? value
            : Quote(value);

    private static string Quote(string value) => JsonSerializer.Serialize(value, QuoteOptions);

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Letters first, then a conservative set that never starts YAML syntax inside a plain scalar.
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9 ._/()+'-]*[A-Za-z0-9._)]$|^[A-Za-z]$")]
    private static partial Regex PlainSafe();
}
