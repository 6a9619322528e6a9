using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ComfyOperator.Kubernetes.Client;

/// <summary>
/// Counts API requests by verb and code (<c>kubernetes_client_requests_total</c>) and times them.
/// Built from <see cref="IMeterFactory"/> so the operator's exporter sees it; the
/// <see cref="RequestCompleted"/> event is there for anything that wants the raw stream.
/// </summary>
public sealed class KubernetesClientMetrics : IDisposable
{
    public const string MeterName = "ComfyOperator.Kubernetes.Client";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public KubernetesClientMetrics(IMeterFactory? meterFactory = null)
    {
        if (meterFactory is null)
        {
            _meter = new Meter(MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(MeterName);
        }

        _requests = _meter.CreateCounter<long>("kubernetes_client_requests_total", description: "Kubernetes API requests by verb and HTTP code (\"error\" when no answer came).");
        _duration = _meter.CreateHistogram<double>("kubernetes_client_request_duration_seconds", unit: "s", description: "Kubernetes API request latency (watch: time to response headers).");
    }

    /// <summary>Raised after every request attempt, retries included.</summary>
    public event EventHandler<KubernetesRequestCompletedEventArgs>? RequestCompleted;

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    internal void Record(string verb, string code, TimeSpan elapsed)
    {
        var tags = new TagList { { "verb", verb }, { "code", code } };
        _requests.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
        RequestCompleted?.Invoke(this, new KubernetesRequestCompletedEventArgs(verb, code, elapsed));
    }
}
