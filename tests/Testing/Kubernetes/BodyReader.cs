using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Parses request bodies: JSON, or YAML for apply patches.</summary>
internal static class BodyReader
{
    public static JsonNode? Parse(byte[] body, bool allowYaml)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            if (!allowYaml)
            {
                throw StatusErrors.BadRequest($"the body of the request was in an unknown format: {e.Message}");
            }
        }

        try
        {
            var stream = new YamlStream();
            using var reader = new StringReader(System.Text.Encoding.UTF8.GetString(body));
            stream.Load(reader);
            // Round-trip through text so numbers are JsonElement-backed like parsed JSON.
            return stream.Documents.Count == 0 ? null : JsonNode.Parse(Convert(stream.Documents[0].RootNode)?.ToJsonString() ?? "null");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw StatusErrors.BadRequest($"error converting YAML to JSON: {e.Message}");
        }
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", Convert(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted or YamlDotNet.Core.ScalarStyle.Literal or YamlDotNet.Core.ScalarStyle.Folded)
        {
            return text;
        }

        return text switch
        {
            "null" or "~" or "" => null,
            "true" or "True" => true,
            "false" or "False" => false,
            _ when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => text,
        };
    }
}
