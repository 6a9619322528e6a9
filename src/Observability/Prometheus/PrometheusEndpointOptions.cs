using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Observability.Prometheus;

/// <summary>Where and for whom <c>/metrics</c> is served. Bound from the <c>Metrics</c> section.</summary>
public sealed class PrometheusEndpointOptions
{
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
    /// Set it in code (<c>services.Configure&lt;PrometheusEndpointOptions&gt;</c>).
    /// </summary>
    public Func<HttpContext, ValueTask<bool>>? Authorize { get; set; }
}
