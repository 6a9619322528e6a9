namespace ComfyOperator.Kubernetes.Selectors;

/// <summary>
/// A parsed label selector (the <c>labelSelector</c> query syntax): terms separated by commas are
/// ANDed. Used to build list/watch queries and to filter cached objects the same way the server does.
/// </summary>
public sealed class LabelSelector
{
    private LabelSelector(IReadOnlyList<LabelRequirement> requirements)
    {
        Requirements = requirements;
    }

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    /// <summary>Matches everything.</summary>
    public static LabelSelector Everything { get; } = new([]);

    /// <summary><c>k1=v1,k2=v2</c> from a label map (e.g. a Service selector).</summary>
    public static LabelSelector FromLabels(IEnumerable<KeyValuePair<string, string>> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new([.. labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => new LabelRequirement(l.Key, LabelSelectorOperator.Equals, [l.Value]))]);
    }

    public static LabelSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var requirements = new List<LabelRequirement>();
        foreach (var term in SplitTerms(selector))
        {
            requirements.Add(ParseTerm(term));
        }

        return new LabelSelector(requirements);
    }

    /// <summary>True when every term matches (e.g. <c>selector.Matches(obj.Metadata.Labels)</c>).</summary>
    public bool Matches(IDictionary<string, string>? labels) => Requirements.All(r => r.Matches(labels));

    public override string ToString() => string.Join(',', Requirements);

    // Commas inside "in (a,b)" do not split terms.
    private static List<string> SplitTerms(string selector)
    {
        var terms = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            switch (selector[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    terms.Add(selector[start..i].Trim());
                    start = i + 1;
                    break;
                default:
                    break;
            }
        }

        terms.Add(selector[start..].Trim());
        if (depth != 0 || terms.Any(t => t.Length == 0))
        {
            throw new FormatException($"Invalid label selector '{selector}'.");
        }

        return terms;
    }

    private static LabelRequirement ParseTerm(string term)
    {
        if (term.StartsWith('!'))
        {
            return new LabelRequirement(ValidKey(term[1..].Trim(), term), LabelSelectorOperator.DoesNotExist, []);
        }

        var notEquals = term.IndexOf("!=", StringComparison.Ordinal);
        if (notEquals > 0)
        {
            return new LabelRequirement(ValidKey(term[..notEquals].Trim(), term), LabelSelectorOperator.NotEquals, [term[(notEquals + 2)..].Trim()]);
        }

        var doubleEquals = term.IndexOf("==", StringComparison.Ordinal);
        if (doubleEquals > 0)
        {
            return new LabelRequirement(ValidKey(term[..doubleEquals].Trim(), term), LabelSelectorOperator.Equals, [term[(doubleEquals + 2)..].Trim()]);
        }

        var equals = term.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0)
        {
            return new LabelRequirement(ValidKey(term[..equals].Trim(), term), LabelSelectorOperator.Equals, [term[(equals + 1)..].Trim()]);
        }

        var open = term.IndexOf('(', StringComparison.Ordinal);
        if (open > 0 && term.EndsWith(')'))
        {
            var head = term[..open].Trim();
            var values = term[(open + 1)..^1].Split(',', StringSplitOptions.TrimEntries);
            if (head.EndsWith(" notin", StringComparison.Ordinal))
            {
                return new LabelRequirement(ValidKey(head[..^6].Trim(), term), LabelSelectorOperator.NotIn, values);
            }

            if (head.EndsWith(" in", StringComparison.Ordinal))
            {
                return new LabelRequirement(ValidKey(head[..^3].Trim(), term), LabelSelectorOperator.In, values);
            }

            throw new FormatException($"Invalid label selector term '{term}'.");
        }

        return new LabelRequirement(ValidKey(term, term), LabelSelectorOperator.Exists, []);
    }

    private static string ValidKey(string key, string term)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '=' or '!' or ','))
        {
            throw new FormatException($"Invalid label selector term '{term}'.");
        }

        return key;
    }
}
