using System.Text.RegularExpressions;
using YamlDotNet.Serialization;

namespace ComfyOperator.Install.Tests;

/// <summary>The documents of a rendered multi-document YAML stream, in order.</summary>
internal sealed partial class ManifestSet(IReadOnlyList<Manifest> items)
{
    private static readonly IDeserializer s_yaml = new DeserializerBuilder().Build();

    public IReadOnlyList<Manifest> Items => items;

    public static ManifestSet Parse(string text)
    {
        var list = new List<Manifest>();
        foreach (var doc in Separator().Split(text))
        {
            if (string.IsNullOrWhiteSpace(doc))
            {
                continue;
            }

            var source = SourceComment().Match(doc) is { Success: true } m ? m.Groups[1].Value : "";
            if (Tree.Normalize(s_yaml.Deserialize<object?>(doc)) is IReadOnlyDictionary<string, object?> root)
            {
                list.Add(new Manifest(source, doc, root));
            }
        }

        return new ManifestSet(list);
    }

    public IEnumerable<Manifest> OfKind(string kind) => items.Where(m => m.Kind == kind);

    public Manifest Single(string kind, string name) =>
        items.SingleOrDefault(m => m.Kind == kind && m.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind}/{name} among: {string.Join(", ", items)}");

    [GeneratedRegex(@"^---[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex Separator();

    [GeneratedRegex(@"^# Source: (.+)$", RegexOptions.Multiline)]
    private static partial Regex SourceComment();
}
