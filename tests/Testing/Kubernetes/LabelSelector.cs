using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// A parsed <c>labelSelector</c>: comma means AND; <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>,
/// <c>k in (a,b)</c>, <c>k notin (a)</c>, <c>k</c>, <c>!k</c>. <c>!=</c> and <c>notin</c> match a missing key.
/// </summary>
internal sealed class LabelSelector
{
    private readonly List<Requirement> _requirements;

    private LabelSelector(List<Requirement> requirements) => _requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    public bool IsEmpty => _requirements.Count == 0;

    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var result = new List<Requirement>();
        foreach (var raw in SplitTopLevel(text))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            result.Add(ParseTerm(term));
        }

        return new LabelSelector(result);
    }

    /// <summary>Builds the selector text for a Scale's status.selector from matchLabels.</summary>
    public static string FromMatchLabels(JsonObject? matchLabels) =>
        matchLabels is null ? "" : string.Join(",", matchLabels.Select(kv => $"{kv.Key}={kv.Value?.GetValue<string>()}"));

    public bool Matches(JsonObject? labels)
    {
        foreach (var r in _requirements)
        {
            string? value = null;
            var has = labels is not null && labels.TryGetPropertyValue(r.Key, out var node) && (value = node?.GetValue<string>()) is not null;
            var ok = r.Op switch
            {
                "=" => has && r.Values.Contains(value!),
                "!=" => !has || !r.Values.Contains(value!),
                "in" => has && r.Values.Contains(value!),
                "notin" => !has || !r.Values.Contains(value!),
                "exists" => has,
                "!exists" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static Requirement ParseTerm(string term)
    {
        if (term.StartsWith('!'))
        {
            return new Requirement(Key(term[1..].Trim(), term), "!exists", []);
        }

        var inIndex = IndexOfWord(term, " notin ");
        if (inIndex > 0)
        {
            return new Requirement(Key(term[..inIndex].Trim(), term), "notin", SetValues(term[(inIndex + 7)..], term));
        }

        inIndex = IndexOfWord(term, " in ");
        if (inIndex > 0)
        {
            return new Requirement(Key(term[..inIndex].Trim(), term), "in", SetValues(term[(inIndex + 4)..], term));
        }

        var ne = term.IndexOf("!=", StringComparison.Ordinal);
        if (ne > 0)
        {
            return new Requirement(Key(term[..ne].Trim(), term), "!=", [Value(term[(ne + 2)..].Trim(), term)]);
        }

        var eq = term.IndexOf('=');
        if (eq > 0)
        {
            var valueStart = eq + 1 < term.Length && term[eq + 1] == '=' ? eq + 2 : eq + 1;
            return new Requirement(Key(term[..eq].Trim(), term), "=", [Value(term[valueStart..].Trim(), term)]);
        }

        if (term.IndexOfAny(['<', '>', '(', ')', ' ']) >= 0)
        {
            throw StatusErrors.BadRequest($"unable to parse requirement: found '{term}', expected: '=', '!=', '==', 'in', notin'");
        }

        return new Requirement(Key(term, term), "exists", []);
    }

    private static int IndexOfWord(string term, string word) => term.IndexOf(word, StringComparison.Ordinal);

    private static HashSet<string> SetValues(string rest, string term)
    {
        rest = rest.Trim();
        if (!rest.StartsWith('(') || !rest.EndsWith(')'))
        {
            throw StatusErrors.BadRequest($"unable to parse requirement: found '{term}', expected: '('");
        }

        return rest[1..^1].Split(',').Select(v => Value(v.Trim(), term)).ToHashSet(StringComparer.Ordinal);
    }

    private static string Key(string key, string term)
    {
        if (key.Length == 0 || !MetadataRules.IsQualifiedName(key))
        {
            throw StatusErrors.BadRequest($"unable to parse requirement: invalid label key \"{key}\" in '{term}'");
        }

        return key;
    }

    private static string Value(string value, string term)
    {
        if (!MetadataRules.IsLabelValue(value))
        {
            throw StatusErrors.BadRequest($"unable to parse requirement: invalid label value: \"{value}\" in '{term}'");
        }

        return value;
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }

    private sealed record Requirement(string Key, string Op, HashSet<string> Values);
}
