using System.Collections.Concurrent;
using Prometheus;

namespace ComfyOperator.Observability.Metrics;

/// <summary>
/// A labelled prometheus-net metric that keeps at most <c>Metrics:MaxSeriesPerInstrument</c> label sets:
/// a measurement that would create one more is dropped and counted, so a label fed by user input
/// (a worker address, an HTTP method) cannot exhaust memory. prometheus-net itself has no such limit.
/// </summary>
public sealed class CappedMetric<TChild>
    where TChild : ChildBase
{
    private const char Separator = '\u001F';

    private readonly Collector<TChild> _metric;
    private readonly int _maxSeries;
    private readonly Action<string> _dropped;
    private readonly ConcurrentDictionary<string, (string[] Labels, TChild Child)> _series = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    internal CappedMetric(Collector<TChild> metric, int maxSeries, Action<string> dropped)
    {
        _metric = metric;
        _maxSeries = maxSeries;
        _dropped = dropped;
    }

    public string Name => _metric.Name;

    /// <summary>The series of these label values (in the order the metric declares its labels), or null when the limit drops it.</summary>
    public TChild? WithLabels(params string[] labelValues)
    {
        ArgumentNullException.ThrowIfNull(labelValues);
        var key = Key(labelValues);
        if (_series.TryGetValue(key, out var existing))
        {
            return existing.Child;
        }

        lock (_gate)
        {
            if (_series.TryGetValue(key, out existing))
            {
                return existing.Child;
            }

            if (_series.Count >= _maxSeries)
            {
                _dropped(_metric.Name);
                return null;
            }

            var child = _metric.WithLabels(labelValues);
            _series[key] = (labelValues, child);
            return child;
        }
    }

    /// <summary>
    /// For a gauge read at scrape time: series in <paramref name="current"/> take their value, series
    /// not reported again disappear (a removed worker leaves no stale series behind).
    /// </summary>
    public void Replace(IEnumerable<(string[] Labels, double Value)> current, Action<TChild, double> set)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(set);
        var values = new Dictionary<string, (string[] Labels, double Value)>(StringComparer.Ordinal);
        foreach (var (labels, value) in current)
        {
            values[Key(labels)] = (labels, value);
        }

        lock (_gate)
        {
            foreach (var (key, series) in _series)
            {
                if (!values.ContainsKey(key))
                {
                    _metric.RemoveLabelled(series.Labels);
                    _series.TryRemove(key, out _);
                }
            }
        }

        foreach (var (labels, value) in values.Values)
        {
            if (WithLabels(labels) is { } child)
            {
                set(child, value);
            }
        }
    }

    private static string Key(string[] labelValues) => labelValues.Length == 1 ? labelValues[0] : string.Join(Separator, labelValues);
}
