using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Comfy.Json;

/// <summary>
/// Lenient readers over <see cref="JsonNode"/>: ComfyUI versions and custom nodes disagree on
/// number vs string and add keys freely (docs/comfyui-protocol.md §9.18), so a wrong kind reads as "absent"
/// instead of throwing.
/// </summary>
internal static class JsonRead
{
    public static string? String(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
    }

    public static string? String(JsonObject? obj, string key) => obj is null ? null : String(obj[key]);

    public static long? Long(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.Number:
                if (TryInteger(value, out var l))
                {
                    return l;
                }

                var d = NumberAsDouble(value);
                return !double.IsNaN(d) && !double.IsInfinity(d) && d >= long.MinValue && d <= long.MaxValue ? (long)d : null;
            case JsonValueKind.String:
                return long.TryParse(value.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : null;
            default:
                return null;
        }
    }

    public static long? Long(JsonObject? obj, string key) => obj is null ? null : Long(obj[key]);

    public static double? Double(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.Number => NumberAsDouble(value),
            JsonValueKind.String => double.TryParse(value.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            _ => null,
        };
    }

    public static double? Double(JsonObject? obj, string key) => obj is null ? null : Double(obj[key]);

    public static bool? Bool(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        };
    }

    public static bool? Bool(JsonObject? obj, string key) => obj is null ? null : Bool(obj[key]);

    public static JsonObject? Object(JsonObject? obj, string key) => obj?[key] as JsonObject;

    public static JsonArray? Array(JsonObject? obj, string key) => obj?[key] as JsonArray;

    public static IReadOnlyList<string> StringList(JsonNode? node)
    {
        if (node is not JsonArray array)
        {
            return [];
        }

        var list = new List<string>(array.Count);
        foreach (var item in array)
        {
            var s = String(item);
            if (s is not null)
            {
                list.Add(s);
            }
        }

        return list;
    }

    public static bool IsString(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    public static bool IsNumber(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number;

    public static bool IsBool(JsonNode? node) => node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False;

    /// <summary>True for a JSON number with no fractional part.</summary>
    public static bool IsInteger(JsonNode? node)
    {
        if (!IsNumber(node))
        {
            return false;
        }

        var value = (JsonValue)node!;
        if (TryInteger(value, out _))
        {
            return true;
        }

        var d = NumberAsDouble(value);
        return Math.Floor(d) == d && !double.IsInfinity(d);
    }

    // Values parsed from text are backed by a JsonElement; values built in code (JsonValue.Create)
    // hold the CLR primitive, and GetValue<T> only converts within those, so try each.
    private static bool TryInteger(JsonValue value, out long result)
    {
        if (value.TryGetValue(out long l))
        {
            result = l;
            return true;
        }

        if (value.TryGetValue(out int i))
        {
            result = i;
            return true;
        }

        if (value.TryGetValue(out JsonElement element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out l))
        {
            result = l;
            return true;
        }

        if (value.TryGetValue(out short s))
        {
            result = s;
            return true;
        }

        if (value.TryGetValue(out uint u))
        {
            result = u;
            return true;
        }

        result = 0;
        return false;
    }

    private static double NumberAsDouble(JsonValue value)
    {
        if (value.TryGetValue(out double d))
        {
            return d;
        }

        if (TryInteger(value, out var l))
        {
            return l;
        }

        if (value.TryGetValue(out float f))
        {
            return f;
        }

        if (value.TryGetValue(out decimal m))
        {
            return (double)m;
        }

        if (value.TryGetValue(out ulong ul))
        {
            return ul;
        }

        return double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public static JsonObject? ParseObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
