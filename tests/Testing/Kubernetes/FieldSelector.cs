using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// A parsed <c>fieldSelector</c> (<c>=</c>, <c>==</c>, <c>!=</c>, comma = AND). CRs accept only
/// metadata.name and metadata.namespace; built-ins accept any dotted path (a superset of the real
/// per-type lists such as pods' spec.nodeName and status.phase).
/// </summary>
internal sealed class FieldSelector
{
    private readonly List<(string Path, bool Equal, string Value)> _terms;

    private FieldSelector(List<(string, bool, string)> terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    public bool IsEmpty => _terms.Count == 0;

    public static FieldSelector Parse(string? text, ResourceType type)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var terms = new List<(string, bool, string)>();
        foreach (var raw in text.Split(','))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            var ne = term.IndexOf("!=", StringComparison.Ordinal);
            string path;
            string value;
            bool equal;
            if (ne > 0)
            {
                path = term[..ne];
                value = term[(ne + 2)..];
                equal = false;
            }
            else
            {
                var eq = term.IndexOf('=');
                if (eq <= 0)
                {
                    throw StatusErrors.BadRequest($"invalid selector: '{text}'; can't understand '{term}'");
                }

                path = term[..eq];
                value = term[(eq + 1)..].TrimStart('=');
                equal = true;
            }

            path = path.Trim();
            if (type.IsCustom && path is not ("metadata.name" or "metadata.namespace"))
            {
                throw StatusErrors.BadRequest($"Unable to find \"{type.QualifiedResource}/{type.Version}, Resource={type.Plural}\" that match label selector \"\", field selector \"{text}\": field label not supported: {path}");
            }

            terms.Add((path, equal, value.Trim()));
        }

        return new FieldSelector(terms);
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, equal, value) in _terms)
        {
            var node = JsonPathLite.First(obj, "." + path);
            var text = node switch
            {
                null => "",
                JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                _ => node.ToJsonString(),
            };
            if ((text == value) != equal)
            {
                return false;
            }
        }

        return true;
    }
}
