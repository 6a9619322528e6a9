using System.Text;
using System.Text.RegularExpressions;

namespace ComfyOperator.Install.Tests;

/// <summary>
/// The parts of a Markdown page the documentation tests check: its links, its heading anchors (as
/// GitHub makes them), the section numbers it can be cited by, and its table rows. Fenced code
/// blocks and inline code are not Markdown links, so they are skipped for links.
/// </summary>
internal sealed partial class MarkdownFile
{
    private MarkdownFile(string path, IReadOnlyList<string> lines)
    {
        Path = path;
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var sections = new HashSet<string>(StringComparer.Ordinal);
        var links = new List<(int, string)>();
        var rows = new List<IReadOnlyList<string>>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        string? topSection = null;
        var inFence = false;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            var heading = Heading().Match(line);
            if (heading.Success)
            {
                var slug = Slug(heading.Groups[2].Value);
                var seen = counts.GetValueOrDefault(slug);
                counts[slug] = seen + 1;
                anchors.Add(seen == 0 ? slug : $"{slug}-{seen}");
                var number = SectionNumber().Match(heading.Groups[2].Value);
                if (number.Success)
                {
                    sections.Add(number.Groups[1].Value);
                    topSection = heading.Groups[1].Value.Length == 2 ? number.Groups[1].Value : topSection;
                }

                continue;
            }

            // Numbered items under "## N." count as "N.M" (a pitfall list cited as §9.4).
            var item = NumberedItem().Match(line);
            if (item.Success && topSection is not null && !topSection.Contains('.', StringComparison.Ordinal))
            {
                sections.Add($"{topSection}.{item.Groups[1].Value}");
            }

            var text = InlineCode().Replace(line, "");
            foreach (Match link in Link().Matches(text))
            {
                links.Add((i + 1, link.Groups[1].Value));
            }

            if (line.StartsWith('|'))
            {
                rows.Add(CellSeparator().Split(line.Trim().Trim('|')).Select(c => c.Trim()).ToArray());
            }
        }

        Anchors = anchors;
        Sections = sections;
        Links = links;
        TableRows = rows;
    }

    public string Path { get; }

    /// <summary>Heading anchors as GitHub renders them (<c>## 5.1 Connection</c> → <c>51-connection</c>).</summary>
    public IReadOnlySet<string> Anchors { get; }

    /// <summary>Section numbers of numbered headings (<c>5</c>, <c>5.1</c>) and of numbered list items under a numbered <c>##</c> heading.</summary>
    public IReadOnlySet<string> Sections { get; }

    /// <summary>Link targets with their line numbers.</summary>
    public IReadOnlyList<(int Line, string Target)> Links { get; }

    /// <summary>Table rows (header and separator rows included), split into trimmed cells.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TableRows { get; }

    public static MarkdownFile Read(string path) => new(path, File.ReadAllLines(path, Encoding.UTF8));

    public static MarkdownFile Parse(string path, string text) => new(path, text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray());

    /// <summary>GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens.</summary>
    public static string Slug(string heading)
    {
        var builder = new StringBuilder(heading.Length);
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                builder.Append(c);
            }
            else if (c == ' ')
            {
                builder.Append('-');
            }
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^(\d+(?:\.\d+)*)\.?\s")]
    private static partial Regex SectionNumber();

    [GeneratedRegex(@"^(\d+)\.\s")]
    private static partial Regex NumberedItem();

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellSeparator();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();
}
