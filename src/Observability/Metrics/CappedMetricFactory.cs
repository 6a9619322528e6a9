using Microsoft.Extensions.Options;
using Prometheus;

namespace ComfyOperator.Observability.Metrics;

/// <summary>
/// Defines metrics in one binary's <see cref="CollectorRegistry"/>: labelled ones capped at
/// <see cref="MetricsOptions.MaxSeriesPerInstrument"/> label sets, histograms with the configured buckets.
/// </summary>
public sealed class CappedMetricFactory
{
    internal const string DroppedMetricName = "comfy_metrics_series_dropped_total";

    private readonly MetricFactory _factory;
    private readonly MetricsOptions _options;
    private readonly Lazy<Counter> _droppedCounter;

    public CappedMetricFactory(CollectorRegistry registry, IOptions<MetricsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _factory = Prometheus.Metrics.WithCustomRegistry(registry);

        // Exemplars only reach scrapers in the OpenMetrics format, which the endpoint does not offer.
        _factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();

        // Created on the first drop, so the family only appears once something was dropped.
        _droppedCounter = new Lazy<Counter>(() => _factory.CreateCounter(DroppedMetricName, "Measurements dropped because their metric reached its series limit.", "metric"));
        Registry = registry;
    }

    public CollectorRegistry Registry { get; }

    public Counter CreateCounter(string name, string help) => _factory.CreateCounter(name, EscapeHelp(help));

    public Gauge CreateGauge(string name, string help) => _factory.CreateGauge(name, EscapeHelp(help));

    public Histogram CreateHistogram(string name, string help, IReadOnlyList<double>? buckets = null) =>
        _factory.CreateHistogram(name, EscapeHelp(help), new HistogramConfiguration { Buckets = BucketsFor(name, buckets) });

    /// <param name="labelNames">In alphabetical order, as scrapes have always listed them.</param>
    public CappedMetric<Counter.Child> CreateCounter(string name, string help, params string[] labelNames) =>
        Capped(_factory.CreateCounter(name, EscapeHelp(help), labelNames));

    public CappedMetric<Gauge.Child> CreateGauge(string name, string help, params string[] labelNames) =>
        Capped(_factory.CreateGauge(name, EscapeHelp(help), labelNames));

    public CappedMetric<Histogram.Child> CreateHistogram(string name, string help, string[] labelNames, IReadOnlyList<double>? buckets = null) =>
        Capped(_factory.CreateHistogram(name, EscapeHelp(help), labelNames, new HistogramConfiguration { Buckets = BucketsFor(name, buckets) }));

    private CappedMetric<TChild> Capped<TChild>(Collector<TChild> metric)
        where TChild : ChildBase =>
        new(metric, _options.MaxSeriesPerInstrument, name => _droppedCounter.Value.WithLabels(name).Inc());

    /// <summary>prometheus-net writes help text as it is given; a backslash or line break would break the exposition.</summary>
    private static string EscapeHelp(string help) =>
        help.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);

    /// <summary>Configured per-metric buckets, else the metric's own, else <c>Metrics:HistogramBuckets</c>, else the defaults.</summary>
    private double[] BucketsFor(string name, IReadOnlyList<double>? own)
    {
        IEnumerable<double> chosen = _options.HistogramBucketsByInstrument.TryGetValue(name, out var configured) && configured.Length > 0 ? configured
            : own is { Count: > 0 } ? own
            : _options.HistogramBuckets.Count > 0 ? _options.HistogramBuckets
            : MetricsOptions.DefaultHistogramBuckets;
        return [.. chosen.Where(static b => !double.IsNaN(b) && !double.IsInfinity(b)).Distinct().Order()];
    }
}
