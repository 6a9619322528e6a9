using System.Globalization;
using System.Text;

namespace ComfyOperator.Observability.Prometheus;

/// <summary>
/// Every series exported under one name. Series are found by a key built in a per-thread buffer and
/// looked up by span, so recording into an existing series with string tags does not allocate.
/// </summary>
internal sealed class MetricFamily
{
    private const char NameEnd = '\u001F';
    private const char PairEnd = '\u001E';

    [ThreadStatic]
    private static char[]? t_keyBuffer;

    [ThreadStatic]
    private static KeyValuePair<string, object?>[]? t_sortBuffer;

    private readonly Lock _gate = new();
    private readonly int _maxSeries;
    private Dictionary<string, MetricSeries> _series = new(StringComparer.Ordinal);
    private Dictionary<string, MetricSeries>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private long _dropped;

    public MetricFamily(string name, string help, MetricKind kind, bool isObservable, double[] bounds, int maxSeries)
    {
        Name = name;
        Help = help;
        Kind = kind;
        IsObservable = isObservable;
        Bounds = bounds;
        _maxSeries = maxSeries;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Name { get; }

    public string Help { get; }

    public MetricKind Kind { get; }

    /// <summary>Values come from callbacks at scrape time; series not reported again disappear.</summary>
    public bool IsObservable { get; }

    public double[] Bounds { get; }

    /// <summary>Instruments currently feeding this family (several meters may publish the same name).</summary>
    public int InstrumentCount { get; set; }

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Kind == MetricKind.CounterAdd && (value < 0 || double.IsNaN(value)))
        {
            // A counter only goes up; System.Diagnostics.Metrics does not enforce it, we do.
            return;
        }

        var series = GetOrAddSeries(tags);
        if (series is null)
        {
            return;
        }

        switch (Kind)
        {
            case MetricKind.CounterAdd:
            case MetricKind.GaugeAdd:
                series.Add(value);
                break;
            case MetricKind.CounterSet:
            case MetricKind.GaugeSet:
                series.Set(value);
                break;
            case MetricKind.Histogram:
                series.Observe(value, Bounds);
                break;
        }
    }

    /// <summary>Forgets observable series before their callbacks report again.</summary>
    public void ResetObservations()
    {
        lock (_gate)
        {
            _series = new Dictionary<string, MetricSeries>(StringComparer.Ordinal);
            _lookup = _series.GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }

    public MetricSeries[] SnapshotSeries()
    {
        lock (_gate)
        {
            var series = _series.Values.ToArray();
            Array.Sort(series, static (a, b) => string.CompareOrdinal(a.LabelText, b.LabelText));
            return series;
        }
    }

    private MetricSeries? GetOrAddSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = SortTags(tags);
        var key = BuildKey(sorted);
        lock (_gate)
        {
            if (_lookup.TryGetValue(key, out var existing))
            {
                return existing;
            }

            if (_series.Count >= _maxSeries)
            {
                _dropped++;
                return null;
            }

            var series = new MetricSeries(RenderLabels(sorted), Kind == MetricKind.Histogram ? Bounds.Length : 0);
            _series.Add(key.ToString(), series);
            return series;
        }
    }

    private static ReadOnlySpan<KeyValuePair<string, object?>> SortTags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length <= 1)
        {
            return tags;
        }

        var buffer = t_sortBuffer;
        if (buffer is null || buffer.Length < tags.Length)
        {
            buffer = t_sortBuffer = new KeyValuePair<string, object?>[Math.Max(8, tags.Length)];
        }

        // Insertion sort: tag lists are short and usually already in order.
        for (var i = 0; i < tags.Length; i++)
        {
            var item = tags[i];
            var j = i - 1;
            while (j >= 0 && string.CompareOrdinal(buffer[j].Key, item.Key) > 0)
            {
                buffer[j + 1] = buffer[j];
                j--;
            }

            buffer[j + 1] = item;
        }

        return buffer.AsSpan(0, tags.Length);
    }

    private static ReadOnlySpan<char> BuildKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var buffer = t_keyBuffer ??= new char[256];
        var length = 0;
        foreach (var tag in tags)
        {
            Append(ref buffer, ref length, tag.Key);
            Append(ref buffer, ref length, NameEnd);
            AppendValue(ref buffer, ref length, tag.Value);
            Append(ref buffer, ref length, PairEnd);
        }

        t_keyBuffer = buffer;
        return buffer.AsSpan(0, length);
    }

    private static void AppendValue(ref char[] buffer, ref int length, object? value)
    {
        switch (value)
        {
            case null:
                return;
            case string text:
                Append(ref buffer, ref length, text);
                return;
            case bool flag:
                Append(ref buffer, ref length, flag ? "true" : "false");
                return;
            case ISpanFormattable formattable when value is not Enum:
                while (true)
                {
                    if (formattable.TryFormat(buffer.AsSpan(length), out var written, default, CultureInfo.InvariantCulture))
                    {
                        length += written;
                        return;
                    }

                    Array.Resize(ref buffer, buffer.Length * 2);
                }

            default:
                Append(ref buffer, ref length, TagValueText(value));
                return;
        }
    }

    private static void Append(ref char[] buffer, ref int length, string text)
    {
        EnsureCapacity(ref buffer, length + text.Length);
        text.CopyTo(buffer.AsSpan(length));
        length += text.Length;
    }

    private static void Append(ref char[] buffer, ref int length, char c)
    {
        EnsureCapacity(ref buffer, length + 1);
        buffer[length++] = c;
    }

    private static void EnsureCapacity(ref char[] buffer, int needed)
    {
        if (needed > buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(needed, buffer.Length * 2));
        }
    }

    private string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var builder = new StringBuilder();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            var name = PrometheusText.SanitizeLabelName(tag.Key);
            if (Kind == MetricKind.Histogram && name == "le")
            {
                // "le" is the bucket label; a tag of that name would make the series unreadable.
                name = "tag_le";
            }

            if (!seen.Add(name))
            {
                // Two tags that sanitise to the same label name: keep the first, a duplicate label is invalid.
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(name).Append("=\"");
            PrometheusText.AppendEscapedLabelValue(builder, TagValueText(tag.Value));
            builder.Append('"');
        }

        return builder.ToString();
    }

    private static string TagValueText(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
