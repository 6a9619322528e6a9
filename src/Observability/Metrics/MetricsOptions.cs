using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Observability.Metrics;

/// <summary>Where and for whom <c>/metrics</c> is served, and how series are bounded. Bound from the <c>Metrics</c> section.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>Seconds-oriented bucket boundaries: sub-10 ms HTTP up to half-hour ComfyUI runs.</summary>
    public static IReadOnlyList<double> DefaultHistogramBuckets { get; } =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// When set, a separate small Kestrel listener serves only the metrics path on this port (0 picks a
    /// free one), so scrapers never reach the API port. When unset, the binary maps the path on its own port.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>Address the separate listener binds: an IP address, <c>localhost</c> or <c>*</c>.</summary>
    public string Host { get; set; } = "*";

    /// <summary>When set, scrapes must send <c>Authorization: Bearer</c> with this token.</summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// Auth hook: called for every scrape; false answers 401. Runs after the bearer token check.
    /// Set it in code (<c>services.Configure&lt;MetricsOptions&gt;</c>).
    /// </summary>
    public Func<HttpContext, ValueTask<bool>>? Authorize { get; set; }

    /// <summary>
    /// Distinct label sets kept per metric. Measurements that would create more are dropped and
    /// counted in <c>comfy_metrics_series_dropped_total</c>, so a label fed by user input cannot exhaust memory.
    /// </summary>
    public int MaxSeriesPerInstrument { get; set; } = 2000;

    /// <summary>Bucket upper bounds for histograms without buckets of their own; empty means the defaults.</summary>
    public IList<double> HistogramBuckets { get; } = [];

    /// <summary>Bucket upper bounds per metric name, winning over the metric's own buckets.</summary>
    public IDictionary<string, double[]> HistogramBucketsByInstrument { get; } = new Dictionary<string, double[]>(StringComparer.Ordinal);
}
