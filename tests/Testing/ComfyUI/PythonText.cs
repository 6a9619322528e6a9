using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>Python's text conventions where ComfyUI leaks them onto the wire (str(), repr(), float formatting, truthiness).</summary>
internal static class PythonText
{
    /// <summary>Python <c>repr(float)</c>: always has a decimal point or exponent (3.0, 1e+16).</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return text.Contains('.', StringComparison.Ordinal) ? text : text + ".0";
        }

        var exp = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
        if (exp >= -4 && exp < 16)
        {
            // .NET switches to exponent notation earlier than Python does.
            var fixedText = ((decimal)value).ToString(CultureInfo.InvariantCulture);
            return fixedText.Contains('.', StringComparison.Ordinal) ? fixedText : fixedText + ".0";
        }

        return text[..e] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>Wire JSON: no HTML-safe escaping of quotes and angle brackets (Python's json.dumps does not do that either).</summary>
    public static readonly JsonSerializerOptions Wire = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A JSON literal holding a Python float, e.g. <c>3.0</c> (System.Text.Json would write <c>3</c>).</summary>
    public static JsonNode FloatNode(double value) => JsonNode.Parse(Float(value))!;

    /// <summary>Python <c>repr(str)</c>.</summary>
    public static string Repr(string value)
    {
        var quote = value.Contains('\'', StringComparison.Ordinal) && !value.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder(value.Length + 2);
        sb.Append(quote);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append(quote).ToString();
    }

    /// <summary>Python <c>str()</c> of a JSON value as json.loads would have produced it.</summary>
    public static string Str(JsonNode? node) => node switch
    {
        null => "None",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => ReprNode(node),
    };

    /// <summary>Python <c>repr()</c> of a JSON value (lists and dicts print their items with repr).</summary>
    public static string ReprNode(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return "None";
            case JsonArray array:
                return "[" + string.Join(", ", array.Select(ReprNode)) + "]";
            case JsonObject obj:
                return "{" + string.Join(", ", obj.Select(p => Repr(p.Key) + ": " + ReprNode(p.Value))) + "}";
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String: return Repr(value.GetValue<string>());
                    case JsonValueKind.True: return "True";
                    case JsonValueKind.False: return "False";
                    case JsonValueKind.Number:
                        var raw = value.ToJsonString();
                        return raw.Contains('.', StringComparison.Ordinal) || raw.Contains('e', StringComparison.OrdinalIgnoreCase)
                            ? Float(value.GetValue<double>())
                            : raw;
                    default: return "None";
                }

            default:
                return node.ToJsonString();
        }
    }

    /// <summary>Python <c>str(list)</c> of strings: <c>['a', 'b']</c>.</summary>
    public static string ListRepr(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Repr)) + "]";

    /// <summary>Python truthiness of a JSON value.</summary>
    public static bool Truthy(JsonNode? node) => node switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject o => o.Count > 0,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => v.GetValue<string>().Length > 0,
            JsonValueKind.Number => v.GetValue<double>() != 0,
            _ => false,
        },
        _ => false,
    };

    /// <summary>True when the JSON value is a number without fraction/exponent in its text (a Python int).</summary>
    public static bool IsIntLiteral(JsonValue value)
    {
        if (value.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        var raw = value.ToJsonString();
        return !raw.Contains('.', StringComparison.Ordinal) && !raw.Contains('e', StringComparison.OrdinalIgnoreCase);
    }
}
