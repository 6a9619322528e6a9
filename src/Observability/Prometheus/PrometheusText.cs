using System.Globalization;
using System.Text;

namespace ComfyOperator.Observability.Prometheus;

/// <summary>Names, escaping and number formatting of the Prometheus text exposition format 0.0.4.</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Maps an instrument name to <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>: dots, dashes and anything else become underscores.</summary>
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>Maps a tag name to <c>[a-zA-Z_][a-zA-Z0-9_]*</c>; names Prometheus reserves (<c>__</c>) get a prefix.</summary>
    public static string SanitizeLabelName(string name)
    {
        var sanitized = Sanitize(name, allowColon: false);
        return sanitized.StartsWith("__", StringComparison.Ordinal) ? "tag" + sanitized : sanitized;
    }

    /// <summary>
    /// The exported family name: sanitised, with the base unit as suffix (<c>s</c> → <c>_seconds</c>,
    /// <c>By</c> → <c>_bytes</c>) and <c>_total</c> for counters, each only when not already there.
    /// </summary>
    public static string FamilyName(string instrumentName, string? unit, bool isCounter)
    {
        var name = SanitizeMetricName(instrumentName);
        var total = false;
        if (name.EndsWith("_total", StringComparison.Ordinal))
        {
            name = name[..^"_total".Length];
            total = true;
        }

        var suffix = unit switch
        {
            "s" or "seconds" => "_seconds",
            "ms" or "milliseconds" => "_milliseconds",
            "By" or "bytes" => "_bytes",
            _ => null,
        };
        if (suffix is not null && !name.EndsWith(suffix, StringComparison.Ordinal))
        {
            name += suffix;
        }

        return isCounter || total ? name + "_total" : name;
    }

    public static void AppendEscapedLabelValue(StringBuilder builder, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': builder.Append(@"\\"); break;
                case '"': builder.Append("\\\""); break;
                case '\n': builder.Append(@"\n"); break;
                default: builder.Append(c); break;
            }
        }
    }

    public static string EscapeHelp(string help)
    {
        if (help.AsSpan().IndexOfAny('\\', '\n') < 0)
        {
            return help;
        }

        return help.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);
    }

    public static void AppendValue(StringBuilder builder, double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            builder.Append("+Inf");
        }
        else if (double.IsNegativeInfinity(value))
        {
            builder.Append("-Inf");
        }
        else if (double.IsNaN(value))
        {
            builder.Append("NaN");
        }
        else
        {
            builder.Append(value.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    public static string FormatValue(double value)
    {
        var builder = new StringBuilder();
        AppendValue(builder, value);
        return builder.ToString();
    }

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var builder = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        return builder.ToString();
    }
}
