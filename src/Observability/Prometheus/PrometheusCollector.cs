using System.Diagnostics.Metrics;
using System.Text;

namespace ComfyOperator.Observability.Prometheus;

/// <summary>
/// Listens to <see cref="System.Diagnostics.Metrics"/> instruments of the configured meters, aggregates
/// their measurements and renders them in the Prometheus text format 0.0.4.
/// </summary>
/// <remarks>
/// A <see cref="MeterListener"/> sees every meter in the process. Given the host's
/// <see cref="IMeterFactory"/>, the collector keeps only meters that factory created, so two hosts in one
/// process (tests) do not export each other's series.
/// </remarks>
public sealed class PrometheusCollector : IDisposable
{
    internal const string DroppedFamilyName = "comfy_metrics_series_dropped_total";

    private readonly Lock _familiesGate = new();
    private readonly Lock _scrapeGate = new();
    private readonly Dictionary<string, MetricFamily> _families = new(StringComparer.Ordinal);
    private readonly PrometheusExporterOptions _options;
    private readonly object? _meterScope;
    private readonly MeterListener _listener;
    private readonly double[] _defaultBounds;

    public PrometheusCollector(PrometheusExporterOptions options, IMeterFactory? meterScope = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxSeriesPerInstrument < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Metrics:MaxSeriesPerInstrument must be at least 1.");
        }

        _options = options;
        _meterScope = meterScope;
        _defaultBounds = NormalizeBounds(options.HistogramBuckets.Count > 0 ? options.HistogramBuckets : PrometheusExporterOptions.DefaultHistogramBuckets);
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = OnMeasurementsCompleted,
        };
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((MetricFamily)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Collects observable instruments and renders every family, sorted by name.</summary>
    public string Scrape()
    {
        var builder = new StringBuilder(4096);
        lock (_scrapeGate)
        {
            MetricFamily[] families;
            lock (_familiesGate)
            {
                families = [.. _families.Values];
            }

            foreach (var family in families)
            {
                if (family.IsObservable)
                {
                    family.ResetObservations();
                }
            }

            _listener.RecordObservableInstruments();
            Array.Sort(families, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (var family in families)
            {
                WriteFamily(builder, family);
            }

            WriteDropped(builder, families);
        }

        return builder.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (_meterScope is not null && !ReferenceEquals(instrument.Meter.Scope, _meterScope))
        {
            return;
        }

        if (!_options.MeterPrefixes.Any(prefix => instrument.Meter.Name.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return;
        }

        var (kind, observable) = Classify(instrument);
        if (kind is null)
        {
            return;
        }

        var isCounter = kind is MetricKind.CounterAdd or MetricKind.CounterSet;
        var name = PrometheusText.FamilyName(instrument.Name, instrument.Unit, isCounter);
        MetricFamily family;
        lock (_familiesGate)
        {
            if (_families.TryGetValue(name, out var existing))
            {
                if (existing.Kind != kind || existing.IsObservable != observable)
                {
                    // Same exported name, different meaning: exporting both would be an invalid exposition.
                    return;
                }

                family = existing;
            }
            else
            {
                var bounds = kind == MetricKind.Histogram ? BoundsFor(instrument, name) : [];
                family = new MetricFamily(name, instrument.Description ?? instrument.Name, kind.Value, observable, bounds, _options.MaxSeriesPerInstrument);
                _families.Add(name, family);
            }

            family.InstrumentCount++;
        }

        listener.EnableMeasurementEvents(instrument, family);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        if (state is not MetricFamily family)
        {
            return;
        }

        lock (_familiesGate)
        {
            family.InstrumentCount--;
            if (family.InstrumentCount <= 0 && _families.TryGetValue(family.Name, out var current) && ReferenceEquals(current, family))
            {
                _families.Remove(family.Name);
            }
        }
    }

    private double[] BoundsFor(Instrument instrument, string exportedName)
    {
        if (_options.HistogramBucketsByInstrument.TryGetValue(instrument.Name, out var byName) ||
            _options.HistogramBucketsByInstrument.TryGetValue(exportedName, out byName))
        {
            return NormalizeBounds(byName);
        }

        var advice = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => b).ToArray(),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b).ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b).ToArray(),
            _ => null,
        };
        return advice is { Length: > 0 } ? NormalizeBounds(advice) : _defaultBounds;
    }

    private static double[] NormalizeBounds(IEnumerable<double> bounds) =>
        [.. bounds.Where(static b => !double.IsNaN(b) && !double.IsInfinity(b)).Distinct().Order()];

    private static (MetricKind? Kind, bool Observable) Classify(Instrument instrument)
    {
        var definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : null;
        if (definition == typeof(Counter<>))
        {
            return (MetricKind.CounterAdd, false);
        }

        if (definition == typeof(UpDownCounter<>))
        {
            return (MetricKind.GaugeAdd, false);
        }

        if (definition == typeof(Histogram<>))
        {
            return (MetricKind.Histogram, false);
        }

        if (definition == typeof(Gauge<>))
        {
            return (MetricKind.GaugeSet, false);
        }

        if (definition == typeof(ObservableCounter<>))
        {
            return (MetricKind.CounterSet, true);
        }

        if (definition == typeof(ObservableGauge<>) || definition == typeof(ObservableUpDownCounter<>))
        {
            return (MetricKind.GaugeSet, true);
        }

        return (null, false);
    }

    private static void WriteFamily(StringBuilder builder, MetricFamily family)
    {
        // A family without series still gets HELP/TYPE: scrapers and dashboards can see the name exists.
        var series = family.SnapshotSeries();
        var type = family.Kind switch
        {
            MetricKind.CounterAdd or MetricKind.CounterSet => "counter",
            MetricKind.Histogram => "histogram",
            _ => "gauge",
        };
        builder.Append("# HELP ").Append(family.Name).Append(' ').Append(PrometheusText.EscapeHelp(family.Help)).Append('\n');
        builder.Append("# TYPE ").Append(family.Name).Append(' ').Append(type).Append('\n');
        foreach (var one in series)
        {
            if (family.Kind == MetricKind.Histogram)
            {
                WriteHistogram(builder, family, one);
            }
            else
            {
                WriteSample(builder, family.Name, one.LabelText, null, one.Value);
            }
        }
    }

    private static void WriteHistogram(StringBuilder builder, MetricFamily family, MetricSeries series)
    {
        var (cumulative, sum, count) = series.SnapshotHistogram();
        var bucketName = family.Name + "_bucket";
        for (var i = 0; i < family.Bounds.Length; i++)
        {
            WriteSample(builder, bucketName, series.LabelText, PrometheusText.FormatValue(family.Bounds[i]), cumulative[i]);
        }

        WriteSample(builder, bucketName, series.LabelText, "+Inf", count);
        WriteSample(builder, family.Name + "_sum", series.LabelText, null, sum);
        WriteSample(builder, family.Name + "_count", series.LabelText, null, count);
    }

    private static void WriteSample(StringBuilder builder, string name, string labels, string? le, double value)
    {
        builder.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            builder.Append('{').Append(labels);
            if (le is not null)
            {
                builder.Append(labels.Length > 0 ? ",le=\"" : "le=\"").Append(le).Append('"');
            }

            builder.Append('}');
        }

        builder.Append(' ');
        PrometheusText.AppendValue(builder, value);
        builder.Append('\n');
    }

    private static void WriteDropped(StringBuilder builder, MetricFamily[] families)
    {
        var dropped = families.Where(static f => f.Dropped > 0).ToArray();
        if (dropped.Length == 0)
        {
            return;
        }

        builder.Append("# HELP ").Append(DroppedFamilyName).Append(" Measurements dropped because their metric reached its series limit.\n");
        builder.Append("# TYPE ").Append(DroppedFamilyName).Append(" counter\n");
        foreach (var family in dropped)
        {
            var label = new StringBuilder("metric=\"");
            PrometheusText.AppendEscapedLabelValue(label, family.Name);
            label.Append('"');
            WriteSample(builder, DroppedFamilyName, label.ToString(), null, family.Dropped);
        }
    }
}
