using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// Structural-schema processing of a custom resource (docs/kubernetes-api.md §6.3): prune, default, validate — in that order.
/// Supported keywords: type, nullable, required, enum, minimum/maximum (+exclusive), multipleOf,
/// minLength/maxLength, pattern (unanchored), minItems/maxItems, minProperties/maxProperties,
/// properties/additionalProperties/items, x-kubernetes-preserve-unknown-fields,
/// x-kubernetes-int-or-string, x-kubernetes-embedded-resource.
/// NOT evaluated: CEL rules (x-kubernetes-validations), allOf/anyOf/oneOf/not junctors, format,
/// x-kubernetes-list-type uniqueness. A real server would reject some objects this accepts.
/// </summary>
internal static class CrdSchema
{
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Removes undeclared fields in place; returns their paths ("spec.foo").</summary>
    public static List<string> Prune(JsonObject obj, JsonObject schema)
    {
        var unknown = new List<string>();
        foreach (var key in obj.Select(kv => kv.Key).ToList())
        {
            if (key is "apiVersion" or "kind")
            {
                continue;
            }

            if (key == "metadata")
            {
                PruneMetadata(obj["metadata"] as JsonObject, "metadata", unknown);
                continue;
            }

            var prop = schema["properties"]?[key] as JsonObject;
            if (prop is null && !Preserve(schema))
            {
                obj.Remove(key);
                unknown.Add(key);
                continue;
            }

            PruneNode(obj[key], prop, key, unknown);
        }

        return unknown;
    }

    /// <summary>Applies defaults top-down and prunes nulls of non-nullable fields, in place.</summary>
    public static void Default(JsonNode? node, JsonObject? schema)
    {
        if (schema is null)
        {
            return;
        }

        if (node is JsonObject obj)
        {
            if (schema["properties"] is JsonObject props)
            {
                foreach (var (key, propNode) in props)
                {
                    if (propNode is not JsonObject prop)
                    {
                        continue;
                    }

                    var present = obj.TryGetPropertyValue(key, out var value);
                    if ((!present || value is null) && !(present && Nullable(prop)))
                    {
                        if (prop["default"] is JsonNode def)
                        {
                            obj[key] = def.DeepClone();
                        }
                        else if (present)
                        {
                            obj.Remove(key);
                        }
                    }
                }

                foreach (var (key, propNode) in props)
                {
                    if (obj[key] is JsonNode child)
                    {
                        Default(child, propNode as JsonObject);
                    }
                }
            }

            if (schema["additionalProperties"] is JsonObject additional)
            {
                foreach (var (key, value) in obj.ToList())
                {
                    if (schema["properties"]?[key] is null && value is not null)
                    {
                        Default(value, additional);
                    }
                }
            }
        }
        else if (node is JsonArray array && schema["items"] is JsonObject items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is null && !Nullable(items) && items["default"] is JsonNode def)
                {
                    array[i] = def.DeepClone();
                }

                Default(array[i], items);
            }
        }
    }

    public static List<FieldError> Validate(JsonObject obj, JsonObject schema)
    {
        var errors = new List<FieldError>();
        ValidateNode(obj, schema, "", errors, isRoot: true);
        return errors;
    }

    private static void PruneMetadata(JsonObject? meta, string path, List<string> unknown)
    {
        if (meta is null)
        {
            return;
        }

        foreach (var key in meta.Select(kv => kv.Key).ToList())
        {
            if (!MetadataRules.ObjectMetaKeys.Contains(key))
            {
                meta.Remove(key);
                unknown.Add($"{path}.{key}");
            }
        }
    }

    private static void PruneNode(JsonNode? node, JsonObject? schema, string path, List<string> unknown)
    {
        if (schema is null || node is null)
        {
            return;
        }

        if (node is JsonObject obj)
        {
            var embedded = Flag(schema, "x-kubernetes-embedded-resource");
            var props = schema["properties"] as JsonObject;
            var additional = schema["additionalProperties"];
            foreach (var key in obj.Select(kv => kv.Key).ToList())
            {
                var childPath = $"{path}.{key}";
                if (embedded && key is "apiVersion" or "kind")
                {
                    continue;
                }

                if (embedded && key == "metadata")
                {
                    PruneMetadata(obj[key] as JsonObject, childPath, unknown);
                    continue;
                }

                if (props?[key] is JsonObject prop)
                {
                    PruneNode(obj[key], prop, childPath, unknown);
                }
                else if (additional is JsonObject additionalSchema)
                {
                    PruneNode(obj[key], additionalSchema, childPath, unknown);
                }
                else if (additional is JsonValue allowed && allowed.GetValueKind() == JsonValueKind.True)
                {
                    continue;
                }
                else if (!Preserve(schema))
                {
                    obj.Remove(key);
                    unknown.Add(childPath);
                }
            }
        }
        else if (node is JsonArray array && schema["items"] is JsonObject items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                PruneNode(array[i], items, path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", unknown);
            }
        }
    }

    private static void ValidateNode(JsonNode? node, JsonObject schema, string path, List<FieldError> errors, bool isRoot = false)
    {
        var intOrString = Flag(schema, "x-kubernetes-int-or-string");
        var type = MetadataRules.Str(schema["type"]);
        var actual = TypeName(node);
        if (node is null)
        {
            if (!Nullable(schema) && (type is not null || intOrString))
            {
                errors.Add(StatusErrors.TypeInvalid(path, "null", $"{path} in body must be of type {type ?? "integer,string"}: \"null\""));
            }

            return;
        }

        if (intOrString)
        {
            if (actual is not ("integer" or "string"))
            {
                errors.Add(StatusErrors.TypeInvalid(path, actual, $"{path} in body must be of type integer,string: \"{actual}\""));
                return;
            }
        }
        else if (type is not null && !(type == actual || (type == "number" && actual == "integer")))
        {
            errors.Add(StatusErrors.TypeInvalid(path, actual, $"{path} in body must be of type {type}: \"{actual}\""));
            return;
        }

        if (schema["enum"] is JsonArray enumValues && !enumValues.Any(e => JsonNode.DeepEquals(e, node)))
        {
            errors.Add(StatusErrors.NotSupported(path, node, enumValues.Select(StatusErrors.Render)));
        }

        switch (node)
        {
            case JsonValue v when actual is "integer" or "number":
                ValidateNumber(ToDouble(v), node, schema, path, errors);
                break;
            case JsonValue v when actual == "string":
                ValidateString(v.GetValue<string>(), schema, path, errors);
                break;
            case JsonArray a:
                ValidateArray(a, schema, path, errors);
                break;
            case JsonObject o:
                ValidateObject(o, schema, path, errors, isRoot);
                break;
        }
    }

    private static void ValidateNumber(double value, JsonNode node, JsonObject schema, string path, List<FieldError> errors)
    {
        if (Num(schema["maximum"]) is { } max)
        {
            var exclusive = Flag(schema, "exclusiveMaximum");
            if (exclusive ? value >= max : value > max)
            {
                errors.Add(StatusErrors.InvalidValue(path, node, $"{path} in body should be less than {(exclusive ? "" : "or equal to ")}{Fmt(max)}"));
            }
        }

        if (Num(schema["minimum"]) is { } min)
        {
            var exclusive = Flag(schema, "exclusiveMinimum");
            if (exclusive ? value <= min : value < min)
            {
                errors.Add(StatusErrors.InvalidValue(path, node, $"{path} in body should be greater than {(exclusive ? "" : "or equal to ")}{Fmt(min)}"));
            }
        }

        if (Num(schema["multipleOf"]) is { } multiple && multiple > 0 && Math.Abs(Math.IEEERemainder(value, multiple)) > 1e-9)
        {
            errors.Add(StatusErrors.InvalidValue(path, node, $"{path} in body should be a multiple of {Fmt(multiple)}"));
        }
    }

    private static void ValidateString(string value, JsonObject schema, string path, List<FieldError> errors)
    {
        var length = value.EnumerateRunes().Count();
        if (Num(schema["maxLength"]) is { } maxLength && length > maxLength)
        {
            errors.Add(StatusErrors.TooLong(path, (long)maxLength));
        }

        if (Num(schema["minLength"]) is { } minLength && length < minLength)
        {
            errors.Add(StatusErrors.InvalidValue(path, value, $"{path} in body should be at least {Fmt(minLength)} chars long"));
        }

        if (MetadataRules.Str(schema["pattern"]) is { } pattern && !Regex.IsMatch(value, pattern, RegexOptions.None, s_regexTimeout))
        {
            errors.Add(StatusErrors.InvalidValue(path, value, $"{path} in body should match '{pattern}'"));
        }
    }

    private static void ValidateArray(JsonArray array, JsonObject schema, string path, List<FieldError> errors)
    {
        if (Num(schema["maxItems"]) is { } maxItems && array.Count > maxItems)
        {
            errors.Add(StatusErrors.TooMany(path, array.Count, (long)maxItems));
        }

        if (Num(schema["minItems"]) is { } minItems && array.Count < minItems)
        {
            errors.Add(StatusErrors.InvalidValue(path, array.Count, $"{path} in body should have at least {Fmt(minItems)} items"));
        }

        if (schema["items"] is JsonObject items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                ValidateNode(array[i], items, path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", errors);
            }
        }
    }

    private static void ValidateObject(JsonObject obj, JsonObject schema, string path, List<FieldError> errors, bool isRoot)
    {
        string Child(string key) => path.Length == 0 ? key : $"{path}.{key}";

        if (schema["required"] is JsonArray required)
        {
            foreach (var r in required.Select(MetadataRules.Str).OfType<string>())
            {
                if (!obj.ContainsKey(r))
                {
                    errors.Add(StatusErrors.Required(Child(r)));
                }
            }
        }

        if (Num(schema["maxProperties"]) is { } maxProps && obj.Count > maxProps)
        {
            errors.Add(StatusErrors.TooMany(path, obj.Count, (long)maxProps));
        }

        if (Num(schema["minProperties"]) is { } minProps && obj.Count < minProps)
        {
            errors.Add(StatusErrors.InvalidValue(path, obj.Count, $"{path} in body should have at least {Fmt(minProps)} properties"));
        }

        if (Flag(schema, "x-kubernetes-embedded-resource"))
        {
            if (string.IsNullOrEmpty(MetadataRules.Str(obj["apiVersion"])))
            {
                errors.Add(StatusErrors.Required(Child("apiVersion"), "must not be empty"));
            }

            if (string.IsNullOrEmpty(MetadataRules.Str(obj["kind"])))
            {
                errors.Add(StatusErrors.Required(Child("kind"), "must not be empty"));
            }

            if (MetadataRules.Str(obj["metadata"]?["name"]) is { } embeddedName && !MetadataRules.IsSubdomain(embeddedName))
            {
                errors.Add(StatusErrors.InvalidValue(Child("metadata.name"), embeddedName, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
            }
        }

        var props = schema["properties"] as JsonObject;
        foreach (var (key, value) in obj)
        {
            if (isRoot && key is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            if (props?[key] is JsonObject prop)
            {
                ValidateNode(value, prop, Child(key), errors);
            }
            else if (schema["additionalProperties"] is JsonObject additional)
            {
                ValidateNode(value, additional, Child(key), errors);
            }
        }
    }

    private static string TypeName(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Number => IsInteger(v) ? "integer" : "number",
            _ => "null",
        },
        _ => "null",
    };

    private static bool IsInteger(JsonValue v)
    {
        if (v.TryGetValue<long>(out _))
        {
            return true;
        }

        var d = ToDouble(v);
        return Math.Abs(d % 1) < double.Epsilon;
    }

    private static double ToDouble(JsonValue v) =>
        v.TryGetValue<double>(out var d) ? d
        : v.TryGetValue<long>(out var l) ? l
        : v.TryGetValue<int>(out var i) ? i
        : double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);

    private static bool Preserve(JsonObject schema) => Flag(schema, "x-kubernetes-preserve-unknown-fields");

    private static bool Nullable(JsonObject schema) => Flag(schema, "nullable");

    private static bool Flag(JsonObject schema, string key) => schema[key] is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    private static double? Num(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? ToDouble(v) : null;

    private static string Fmt(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
