namespace ComfyOperator.Observability.Prometheus;

/// <summary>What the exporter collects and how it aggregates. Bound from the <c>Metrics</c> section.</summary>
public sealed class PrometheusExporterOptions
{
    /// <summary>Seconds-oriented bucket boundaries: sub-10 ms HTTP up to half-hour ComfyUI runs.</summary>
    public static IReadOnlyList<double> DefaultHistogramBuckets { get; } =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

    /// <summary>Meters whose names start with one of these are exported (ordinal comparison).</summary>
    public IList<string> MeterPrefixes { get; } = ["ComfyOperator."];

    /// <summary>Bucket upper bounds for histograms without a more specific setting; empty means the defaults.</summary>
    public IList<double> HistogramBuckets { get; } = [];

    /// <summary>Bucket upper bounds per instrument (instrument name or exported name), winning over the instrument's own advice.</summary>
    public IDictionary<string, double[]> HistogramBucketsByInstrument { get; } = new Dictionary<string, double[]>(StringComparer.Ordinal);

    /// <summary>
    /// Distinct label sets kept per instrument. Measurements that would create more are dropped and
    /// counted in <c>comfy_metrics_series_dropped_total</c>, so a label fed by user input cannot exhaust memory.
    /// </summary>
    public int MaxSeriesPerInstrument { get; set; } = 2000;
}
