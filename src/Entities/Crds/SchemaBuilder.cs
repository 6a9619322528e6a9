using System.Collections;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ComfyOperator.Entities.Schema;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities.Crds;

/// <summary>
/// Turns C# types and their attributes into a structural OpenAPI v3 schema, the way KubeOps'
/// transpiler does: System.ComponentModel / DataAnnotations for descriptions, required, ranges,
/// patterns, enums and defaults; <see cref="PreserveUnknownFieldsAttribute"/> and
/// <see cref="SchemaTypeAttribute"/> for free-form JSON.
/// </summary>
internal static class SchemaBuilder
{
    private const int MaxDepth = 12;

    public static JsonObject ForType(Type type, int depth = 0)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"Schema of {type.Name} nests deeper than {MaxDepth} levels; is it recursive?");
        }

        if (underlying == typeof(string))
        {
            return new JsonObject { ["type"] = "string" };
        }

        if (underlying == typeof(int))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = "int32" };
        }

        if (underlying == typeof(long))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = "int64" };
        }

        if (underlying == typeof(double) || underlying == typeof(float))
        {
            return new JsonObject { ["type"] = "number" };
        }

        if (underlying == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }

        if (underlying == typeof(DateTimeOffset) || underlying == typeof(DateTime))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        }

        if (underlying == typeof(ResourceQuantity) || underlying == typeof(IntOrString))
        {
            return new JsonObject { ["x-kubernetes-int-or-string"] = true };
        }

        if (underlying == typeof(JsonElement) || typeof(JsonNode).IsAssignableFrom(underlying))
        {
            return new JsonObject { ["x-kubernetes-preserve-unknown-fields"] = true };
        }

        if (PackageTypeSchemas.For(underlying) is { } packageSchema)
        {
            return packageSchema;
        }

        if (underlying == typeof(V1ObjectMeta))
        {
            return new JsonObject { ["type"] = "object" };
        }

        if (DictionaryValueType(underlying) is { } valueType)
        {
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = ForType(valueType, depth + 1) };
        }

        if (ListItemType(underlying) is { } itemType)
        {
            return new JsonObject { ["type"] = "array", ["items"] = ForType(itemType, depth + 1) };
        }

        if (underlying.IsClass)
        {
            return ForClass(underlying, depth);
        }

        throw new NotSupportedException($"No schema mapping for {underlying.FullName}.");
    }

    private static JsonObject ForClass(Type type, int depth)
    {
        var schema = new JsonObject();
        if (type.GetCustomAttribute<DescriptionAttribute>() is { } description)
        {
            schema["description"] = description.Description;
        }

        schema["type"] = "object";
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var property in SchemaProperties(type))
        {
            var name = JsonName(property);
            properties[name] = ForProperty(property, depth + 1);
            if (property.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                required.Add(name);
            }
        }

        if (properties.Count > 0)
        {
            schema["properties"] = properties;
        }

        if (required.Count > 0)
        {
            schema["required"] = required;
        }

        return schema;
    }

    /// <summary>Public instance properties that appear on the wire, in declaration order.</summary>
    internal static IEnumerable<PropertyInfo> SchemaProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .Where(p => p.GetCustomAttribute<JsonExtensionDataAttribute>() is null)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always })
            .OrderBy(p => p.MetadataToken);

    internal static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);

    private static JsonObject ForProperty(PropertyInfo property, int depth)
    {
        var type = property.PropertyType;
        var inner = ForType(type, depth);
        var schema = new JsonObject();

        // Description first: it reads best at the top of each property in the YAML.
        var description = property.GetCustomAttribute<DescriptionAttribute>()?.Description;
        if (description is not null)
        {
            schema["description"] = description;
        }

        foreach (var (key, value) in inner.ToList())
        {
            if (key == "description" && description is not null)
            {
                continue;
            }

            inner.Remove(key);
            schema[key] = value;
        }

        if (property.GetCustomAttribute<SchemaTypeAttribute>() is { } schemaType)
        {
            schema.Remove("type");
            if (schemaType.Type.Length > 0)
            {
                schema["type"] = schemaType.Type;
            }
        }

        if (property.GetCustomAttribute<PreserveUnknownFieldsAttribute>() is not null)
        {
            schema["x-kubernetes-preserve-unknown-fields"] = true;
        }

        var isInteger = (string?)schema["type"] == "integer";
        var isArray = (string?)schema["type"] == "array";
        if (property.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            AddBound(schema, "minimum", range.Minimum, isInteger);
            AddBound(schema, "maximum", range.Maximum, isInteger);
        }

        if (property.GetCustomAttribute<MinLengthAttribute>() is { } minLength)
        {
            schema[isArray ? "minItems" : "minLength"] = minLength.Length;
        }

        if (property.GetCustomAttribute<MaxLengthAttribute>() is { } maxLength)
        {
            schema[isArray ? "maxItems" : "maxLength"] = maxLength.Length;
        }

        if (property.GetCustomAttribute<RegularExpressionAttribute>() is { } pattern)
        {
            schema["pattern"] = pattern.Pattern;
        }

        if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
        {
            schema["enum"] = new JsonArray(allowed.Values.Select(v => JsonValue.Create(Convert.ToString(v, CultureInfo.InvariantCulture))).ToArray<JsonNode?>());
        }

        if (property.GetCustomAttribute<DefaultValueAttribute>() is { Value: { } defaultValue })
        {
            schema["default"] = defaultValue switch
            {
                string s => JsonValue.Create(s),
                int i => JsonValue.Create(i),
                long l => JsonValue.Create(l),
                bool b => JsonValue.Create(b),
                double d => JsonValue.Create(d),
                _ => throw new NotSupportedException($"Default of type {defaultValue.GetType()} on {property.DeclaringType?.Name}.{property.Name}."),
            };
        }

        return schema;
    }

    private static void AddBound(JsonObject schema, string key, object value, bool isInteger)
    {
        var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);

        // int.MaxValue / MinValue stand for "no bound" in a RangeAttribute.
        if (number >= int.MaxValue || number <= int.MinValue)
        {
            return;
        }

        schema[key] = isInteger ? JsonValue.Create((long)number) : JsonValue.Create(number);
    }

    private static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dictionary is null)
        {
            return null;
        }

        var arguments = dictionary.GetGenericArguments();
        return arguments[0] == typeof(string)
            ? arguments[1]
            : throw new NotSupportedException($"Dictionary keys must be strings ({type.Name}).");
    }

    private static Type? ListItemType(Type type)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }
}
