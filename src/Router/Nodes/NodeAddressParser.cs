using System.Globalization;
using System.Text.Json;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Turns node list entries into ComfyUI base URLs: several URLs per entry separated by commas or
/// semicolons, numeric ranges <c>[1-8]</c> (zero-padded when the bounds are, <c>[01-20]</c>), several
/// ranges in one URL (every combination), and servers files (a JSON array of entries, or text with
/// one entry per line and <c>#</c> comments).
/// </summary>
internal static class NodeAddressParser
{
    /// <summary>Upper bound on URLs from one entry, so a typo like <c>[1-99999999]</c> fails instead of eating memory.</summary>
    public const int MaxExpansion = 10_000;

    private static readonly char[] Separators = [',', ';', '\n', '\r'];

    /// <summary>Expands every entry; throws <see cref="NodeAddressException"/> naming the first bad one.</summary>
    public static IReadOnlyList<Uri> ParseEntries(IEnumerable<string> entries)
    {
        var result = new List<Uri>();
        var seen = new HashSet<Uri>();
        foreach (var entry in entries)
        {
            foreach (var part in entry.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                foreach (var url in Expand(part))
                {
                    if (seen.Add(url))
                    {
                        result.Add(url);
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Reads a servers file: JSON array when it starts with <c>[</c>, otherwise text lines.</summary>
    public static IReadOnlyList<Uri> ParseFile(string path, string content)
    {
        var trimmed = content.TrimStart();
        if (trimmed.StartsWith('['))
        {
            string[]? items;
            try
            {
                items = JsonSerializer.Deserialize<string[]>(trimmed);
            }
            catch (JsonException ex)
            {
                throw new NodeAddressException($"Servers file '{path}' is not a JSON array of strings: {ex.Message}", ex);
            }

            return ParseEntries(items ?? []);
        }

        var lines = new List<string>();
        foreach (var raw in content.Split('\n'))
        {
            var line = raw.Trim();
            var comment = line.IndexOf('#', StringComparison.Ordinal);
            if (comment >= 0)
            {
                line = line[..comment].Trim();
            }

            if (line.Length > 0)
            {
                lines.Add(line);
            }
        }

        return ParseEntries(lines);
    }

    /// <summary>Turns <c>file:///etc/servers.json</c> or a plain path into a file system path.</summary>
    public static string ToFilePath(string pathOrFileUrl) =>
        pathOrFileUrl.StartsWith("file://", StringComparison.OrdinalIgnoreCase)
            ? new Uri(pathOrFileUrl).LocalPath
            : pathOrFileUrl;

    /// <summary>Expands the ranges of one URL and checks each result.</summary>
    public static IReadOnlyList<Uri> Expand(string entry)
    {
        var texts = new List<string> { "" };
        var position = 0;
        while (position < entry.Length)
        {
            var open = entry.IndexOf('[', position);
            if (open < 0)
            {
                Append(entry, texts, entry[position..]);
                break;
            }

            Append(entry, texts, entry[position..open]);
            var close = entry.IndexOf(']', open);
            if (close < 0)
            {
                throw new NodeAddressException($"Node entry '{entry}': '[' without a closing ']'.");
            }

            var values = ParseRange(entry, entry[(open + 1)..close]);
            if ((long)texts.Count * values.Count > MaxExpansion)
            {
                throw new NodeAddressException($"Node entry '{entry}' expands to more than {MaxExpansion} URLs.");
            }

            texts = [.. texts.SelectMany(prefix => values.Select(value => prefix + value))];
            position = close + 1;
        }

        return [.. texts.Select(text => ToBaseUri(entry, text))];
    }

    private static void Append(string entry, List<string> texts, string literal)
    {
        if (literal.Contains(']', StringComparison.Ordinal))
        {
            throw new NodeAddressException($"Node entry '{entry}': ']' without an opening '['.");
        }

        for (var i = 0; i < texts.Count; i++)
        {
            texts[i] += literal;
        }
    }

    private static List<string> ParseRange(string entry, string range)
    {
        var dash = range.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || dash == range.Length - 1)
        {
            throw new NodeAddressException($"Node entry '{entry}': range '[{range}]' is not of the form [start-end].");
        }

        var startText = range[..dash].Trim();
        var endText = range[(dash + 1)..].Trim();
        if (!int.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !int.TryParse(endText, NumberStyles.None, CultureInfo.InvariantCulture, out var end))
        {
            throw new NodeAddressException($"Node entry '{entry}': range '[{range}]' must have non-negative whole numbers.");
        }

        if (start > end)
        {
            throw new NodeAddressException($"Node entry '{entry}': range '[{range}]' starts after it ends.");
        }

        if (end - start + 1 > MaxExpansion)
        {
            throw new NodeAddressException($"Node entry '{entry}' expands to more than {MaxExpansion} URLs.");
        }

        // "[01-20]" keeps the width of the bounds; "[1-20]" does not pad.
        var width = startText.Length > 1 && startText[0] == '0' ? Math.Max(startText.Length, endText.Length) : 0;
        var format = "D" + width.ToString(CultureInfo.InvariantCulture);
        var values = new List<string>(end - start + 1);
        for (var i = start; i <= end; i++)
        {
            values.Add(i.ToString(format, CultureInfo.InvariantCulture));
        }

        return values;
    }

    private static Uri ToBaseUri(string entry, string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            throw new NodeAddressException($"Node entry '{entry}': '{text}' is not an absolute http(s) URL.");
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new NodeAddressException($"Node entry '{entry}': '{text}' must not have a query or fragment.");
        }

        var path = uri.AbsolutePath.TrimEnd('/') + "/";
        return new UriBuilder(uri.Scheme, uri.Host, uri.Port, path).Uri;
    }
}
