using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ComfyOperator.Operator.Metrics;

/// <summary>
/// Every operator instrument (meter <c>ComfyOperator.Operator</c>). API requests by verb and code come
/// from <c>KubernetesClientMetrics</c> (<c>kubernetes_client_requests_total</c>) built from the same factory.
/// </summary>
internal sealed class OperatorMetrics
{
    public const string MeterName = "ComfyOperator.Operator";

    private static readonly double[] ProbeBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _reconciles;
    private readonly Histogram<double> _reconcileDuration;
    private readonly Counter<long> _workQueueRetries;
    private readonly Histogram<double> _probeDuration;
    private readonly Counter<long> _probeFailures;
    private readonly Gauge<int> _leader;
    private readonly ConcurrentDictionary<string, Func<int>> _queues = new(StringComparer.Ordinal);
    private Func<IEnumerable<(string Phase, int Count)>> _nodes = static () => [];

    public OperatorMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _reconciles = meter.CreateCounter<long>("comfy_operator_reconciles_total", description: "Reconciles, by resource kind and result (success; failure: retried with backoff; error: the reconcile threw).");
        _reconcileDuration = meter.CreateHistogram<double>("comfy_operator_reconcile_duration_seconds", "s", "Reconcile latency, by resource kind.");
        meter.CreateObservableGauge("comfy_operator_workqueue_depth", ObserveQueues, description: "Keys waiting in the work queue (not counting delayed requeues), by resource kind.");
        _workQueueRetries = meter.CreateCounter<long>("comfy_operator_workqueue_retries_total", description: "Keys re-queued after a failed or requeue-after reconcile, by resource kind.");
        _probeDuration = meter.CreateHistogram<double>("comfy_operator_probe_duration_seconds", "s", "ComfyUI readiness probe latency.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ProbeBuckets });
        _probeFailures = meter.CreateCounter<long>("comfy_operator_probe_failures_total", description: "Failed ComfyUI probes, by reason (timeout, http, connection).");
        meter.CreateObservableGauge("comfy_operator_nodes", ObserveNodes, description: "ComfyNodes by phase.");
        _leader = meter.CreateGauge<int>("comfy_operator_leader", description: "1 while this replica holds the leader lease, else 0.");
        _leader.Record(0);
    }

    public void ObserveNodes(Func<IEnumerable<(string Phase, int Count)>> source) => _nodes = source;

    public const string ResultSuccess = "success";
    public const string ResultFailure = "failure";
    public const string ResultError = "error";

    public void Reconciled(string kind, string result, TimeSpan elapsed)
    {
        _reconciles.Add(1, new TagList { { "kind", kind }, { "result", result } });
        _reconcileDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("kind", kind));
    }

    /// <summary>Reports <paramref name="depth"/> as the queue depth of <paramref name="kind"/> until <see cref="ForgetQueue"/>.</summary>
    public void ObserveQueue(string kind, Func<int> depth) => _queues[kind] = depth;

    /// <summary>The queue of <paramref name="kind"/> is gone (leadership lost): its depth reads 0.</summary>
    public void ForgetQueue(string kind) => _queues[kind] = static () => 0;

    /// <summary>Nodes by phase go back to none (leadership lost: another replica reports them).</summary>
    public void ForgetNodes() => _nodes = static () => [];

    /// <summary>A key went back to the queue with backoff after a failed reconcile.</summary>
    public void Retried(string kind) => _workQueueRetries.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Probed(TimeSpan elapsed, string? failureReason)
    {
        _probeDuration.Record(elapsed.TotalSeconds);
        if (failureReason is not null)
        {
            _probeFailures.Add(1, new KeyValuePair<string, object?>("reason", failureReason));
        }
    }

    public void LeaderChanged(bool isLeader) => _leader.Record(isLeader ? 1 : 0);

    private IEnumerable<Measurement<int>> ObserveQueues()
    {
        foreach (var (kind, depth) in _queues)
        {
            yield return new Measurement<int>(depth(), new KeyValuePair<string, object?>("kind", kind));
        }
    }

    private IEnumerable<Measurement<int>> ObserveNodes()
    {
        foreach (var (phase, count) in _nodes())
        {
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>("phase", phase));
        }
    }
}
