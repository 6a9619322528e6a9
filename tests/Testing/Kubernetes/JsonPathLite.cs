using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// The JSONPath subset printer columns and scale paths use: <c>.a.b</c>, <c>.a[0]</c>, <c>.a[*]</c>,
/// <c>['dotted.key']</c> and filters <c>[?(@.type=="Ready")]</c> (== and != on a simple path).
/// </summary>
internal static class JsonPathLite
{
    public static List<JsonNode?> Evaluate(JsonNode? root, string path)
    {
        var current = new List<JsonNode?> { root };
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}'))
        {
            p = p[1..^1];
        }

        if (p.StartsWith('$'))
        {
            p = p[1..];
        }

        var i = 0;
        while (i < p.Length && current.Count > 0)
        {
            if (p[i] == '.')
            {
                i++;
                var start = i;
                while (i < p.Length && p[i] != '.' && p[i] != '[')
                {
                    i++;
                }

                var key = p[start..i];
                if (key.Length == 0)
                {
                    continue;
                }

                current = current.Select(n => n is JsonObject o && o.TryGetPropertyValue(key, out var v) ? v : null).Where(v => v is not null).ToList();
            }
            else if (p[i] == '[')
            {
                var end = FindClose(p, i);
                var inner = p[(i + 1)..end];
                i = end + 1;
                current = Step(current, inner);
            }
            else
            {
                throw new FormatException($"unsupported jsonpath {path}");
            }
        }

        return current;
    }

    public static JsonNode? First(JsonNode? root, string path)
    {
        var r = Evaluate(root, path);
        return r.Count > 0 ? r[0] : null;
    }

    /// <summary>Sets a value at a plain dotted path, creating objects on the way.</summary>
    public static void Set(JsonObject root, string path, JsonNode? value)
    {
        var parts = path.TrimStart('.').Split('.');
        var node = root;
        for (var k = 0; k < parts.Length - 1; k++)
        {
            if (node[parts[k]] is not JsonObject next)
            {
                next = [];
                node[parts[k]] = next;
            }

            node = next;
        }

        node[parts[^1]] = value;
    }

    /// <summary>Text the way kubectl's jsonpath prints it: strings bare, several results space-joined.</summary>
    public static string Text(IEnumerable<JsonNode?> nodes)
    {
        var sb = new StringBuilder();
        foreach (var n in nodes)
        {
            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            sb.Append(n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : n?.ToJsonString());
        }

        return sb.ToString();
    }

    private static int FindClose(string p, int open)
    {
        var depth = 0;
        var quote = '\0';
        for (var k = open; k < p.Length; k++)
        {
            var c = p[k];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '[')
            {
                depth++;
            }
            else if (c == ']' && --depth == 0)
            {
                return k;
            }
        }

        throw new FormatException($"unbalanced brackets in {p}");
    }

    private static List<JsonNode?> Step(List<JsonNode?> current, string inner)
    {
        inner = inner.Trim();
        if (inner == "*")
        {
            return current.SelectMany(n => n switch
            {
                JsonArray a => a.AsEnumerable(),
                JsonObject o => o.Select(kv => kv.Value),
                _ => [],
            }).ToList();
        }

        if (inner.Length >= 2 && inner[0] is '\'' or '"')
        {
            var key = inner[1..^1];
            return current.Select(n => n is JsonObject o && o.TryGetPropertyValue(key, out var v) ? v : null).Where(v => v is not null).ToList();
        }

        if (inner.StartsWith("?(", StringComparison.Ordinal) && inner.EndsWith(')'))
        {
            var expr = inner[2..^1].Trim();
            var negate = expr.Contains("!=", StringComparison.Ordinal);
            var parts = expr.Split(negate ? "!=" : "==", 2);
            if (parts.Length != 2 || !parts[0].Trim().StartsWith('@'))
            {
                throw new FormatException($"unsupported filter {inner}");
            }

            var left = parts[0].Trim()[1..];
            var literal = parts[1].Trim();
            var expected = literal.Length >= 2 && literal[0] is '"' or '\'' ? literal[1..^1] : literal;
            return current.SelectMany(n => n is JsonArray a ? a.AsEnumerable() : []).Where(item =>
            {
                var value = First(item, left);
                var text = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : value?.ToJsonString();
                return negate ? text != expected : text == expected;
            }).ToList();
        }

        if (int.TryParse(inner, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            return current.Select(n => n is JsonArray a ? (index < 0 ? (a.Count + index >= 0 ? a[a.Count + index] : null) : (index < a.Count ? a[index] : null)) : null)
                .Where(v => v is not null).ToList();
        }

        throw new FormatException($"unsupported jsonpath step [{inner}]");
    }
}
