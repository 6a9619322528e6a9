using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// The subset of a CRD's structural OpenAPI v3 schema that KEDA's CRDs use (type, properties, required,
/// additionalProperties, items, enum, pattern, minimum, minItems, minLength, anyOf,
/// x-kubernetes-int-or-string), checked against an object as the API server would read its YAML.
/// </summary>
/// <remarks>
/// A field the schema does not declare is an error here, where the API server would prune it in
/// silence: for a chart, a misspelt field is a bug that costs a behaviour, not a field to drop.
/// CEL rules (x-kubernetes-validations) are not evaluated; a test checks what they say by hand.
/// </remarks>
internal sealed class StructuralSchema
{
    private readonly YamlMappingNode _root;

    private StructuralSchema(YamlMappingNode root) => _root = root;

    public static StructuralSchema Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return new StructuralSchema((YamlMappingNode)stream.Documents[0].RootNode);
    }

    /// <summary>Every violation of the schema in <paramref name="yaml"/> (one object), as "path: problem".</summary>
    public IReadOnlyList<string> Validate(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var errors = new List<string>();
        Check(stream.Documents[0].RootNode, _root, "", errors);
        return errors;
    }

    private static void Check(YamlNode value, YamlMappingNode schema, string path, List<string> errors)
    {
        if (Child(schema, "anyOf") is YamlSequenceNode anyOf)
        {
            if (!anyOf.Children.Any(branch => Errors(value, (YamlMappingNode)branch, path).Count == 0))
            {
                errors.Add($"{path}: matches none of anyOf");
            }
        }

        var intOrString = Scalar(schema, "x-kubernetes-int-or-string") == "true";
        var actual = TypeOf(value);
        if (intOrString)
        {
            if (actual is not ("integer" or "string"))
            {
                errors.Add($"{path}: {actual}, wanted integer or string");
                return;
            }
        }
        else if (Scalar(schema, "type") is { } type && actual != type && !(type == "number" && actual == "integer"))
        {
            errors.Add($"{path}: {actual}, wanted {type}");
            return;
        }

        switch (value)
        {
            case YamlMappingNode map:
                CheckObject(map, schema, path, errors);
                break;
            case YamlSequenceNode list:
                if (Scalar(schema, "minItems") is { } minItems && list.Children.Count < int.Parse(minItems, CultureInfo.InvariantCulture))
                {
                    errors.Add($"{path}: {list.Children.Count} items, at least {minItems} wanted");
                }

                if (Child(schema, "items") is YamlMappingNode items)
                {
                    for (var i = 0; i < list.Children.Count; i++)
                    {
                        Check(list.Children[i], items, $"{path}[{i}]", errors);
                    }
                }

                break;
            case YamlScalarNode scalar:
                CheckScalar(scalar, schema, path, errors);
                break;
        }
    }

    private static void CheckObject(YamlMappingNode map, YamlMappingNode schema, string path, List<string> errors)
    {
        var properties = Child(schema, "properties") as YamlMappingNode;
        var additional = Child(schema, "additionalProperties");
        foreach (var (key, child) in map.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            var childPath = path.Length == 0 ? name : $"{path}.{name}";
            if (properties is not null && Child(properties, name) is YamlMappingNode declared)
            {
                Check(child, declared, childPath, errors);
            }
            else if (additional is YamlMappingNode additionalSchema)
            {
                Check(child, additionalSchema, childPath, errors);
            }
            else if (properties is not null || additional is YamlScalarNode { Value: "false" })
            {
                errors.Add($"{childPath}: not a field of the schema");
            }
        }

        if (Child(schema, "required") is YamlSequenceNode required)
        {
            foreach (var name in required.Children.Cast<YamlScalarNode>().Select(n => n.Value!))
            {
                if (!map.Children.ContainsKey(new YamlScalarNode(name)))
                {
                    errors.Add($"{(path.Length == 0 ? name : $"{path}.{name}")}: required");
                }
            }
        }
    }

    private static void CheckScalar(YamlScalarNode scalar, YamlMappingNode schema, string path, List<string> errors)
    {
        var text = scalar.Value ?? "";
        if (Child(schema, "enum") is YamlSequenceNode allowed && !allowed.Children.Cast<YamlScalarNode>().Any(a => a.Value == text))
        {
            errors.Add($"{path}: '{text}' not one of {string.Join(", ", allowed.Children.Cast<YamlScalarNode>().Select(a => a.Value))}");
        }

        if (Scalar(schema, "pattern") is { } pattern && TypeOf(scalar) == "string" && !Regex.IsMatch(text, pattern))
        {
            errors.Add($"{path}: '{text}' does not match {pattern}");
        }

        if (Scalar(schema, "minLength") is { } minLength && text.Length < int.Parse(minLength, CultureInfo.InvariantCulture))
        {
            errors.Add($"{path}: shorter than {minLength}");
        }

        if (Scalar(schema, "minimum") is { } minimum && TypeOf(scalar) is "integer" or "number"
            && double.Parse(text, CultureInfo.InvariantCulture) < double.Parse(minimum, CultureInfo.InvariantCulture))
        {
            errors.Add($"{path}: {text} below the minimum {minimum}");
        }
    }

    private static List<string> Errors(YamlNode value, YamlMappingNode schema, string path)
    {
        var errors = new List<string>();
        Check(value, schema, path, errors);
        return errors;
    }

    /// <summary>The JSON type the API server reads a YAML node as (plain scalars resolved as YAML 1.2's core schema).</summary>
    private static string TypeOf(YamlNode node) => node switch
    {
        YamlMappingNode => "object",
        YamlSequenceNode => "array",
        YamlScalarNode { Style: not YamlDotNet.Core.ScalarStyle.Plain } => "string",
        YamlScalarNode { Value: null or "" or "~" or "null" } => "null",
        YamlScalarNode { Value: "true" or "false" } => "boolean",
        YamlScalarNode s when Regex.IsMatch(s.Value!, "^[-+]?[0-9]+$") => "integer",
        YamlScalarNode s when Regex.IsMatch(s.Value!, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$") => "number",
        _ => "string",
    };

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;
}
