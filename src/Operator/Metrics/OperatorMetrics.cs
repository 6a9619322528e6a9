using System.Collections.Concurrent;
using System.Globalization;
using ComfyOperator.Observability.Metrics;
using Prometheus;

namespace ComfyOperator.Operator.Metrics;

/// <summary>
/// Every operator metric, defined with prometheus-net in the operator's registry, including the
/// Kubernetes API request series (<c>kubernetes_client_*</c>) fed by <see cref="KubernetesRequest"/>.
/// </summary>
internal sealed class OperatorMetrics
{
    public const string ResultSuccess = "success";
    public const string ResultFailure = "failure";
    public const string ResultError = "error";

    private static readonly double[] ProbeBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly CappedMetric<Counter.Child> _reconciles;
    private readonly CappedMetric<Histogram.Child> _reconcileDuration;
    private readonly CappedMetric<Gauge.Child> _workQueueDepth;
    private readonly CappedMetric<Counter.Child> _workQueueRetries;
    private readonly Histogram _probeDuration;
    private readonly CappedMetric<Counter.Child> _probeFailures;
    private readonly CappedMetric<Gauge.Child> _nodesByPhase;
    private readonly Gauge _leader;
    private readonly CappedMetric<Counter.Child> _apiRequests;
    private readonly CappedMetric<Histogram.Child> _apiRequestDuration;
    private readonly ConcurrentDictionary<string, Func<int>> _queues = new(StringComparer.Ordinal);
    private Func<IEnumerable<(string Phase, int Count)>> _nodes = static () => [];

    public OperatorMetrics(CappedMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _reconciles = factory.CreateCounter("comfy_operator_reconciles_total", "Reconciles, by resource kind and result (success; failure: retried with backoff; error: the reconcile threw).", "kind", "result");
        _reconcileDuration = factory.CreateHistogram("comfy_operator_reconcile_duration_seconds", "Reconcile latency, by resource kind.", ["kind"]);
        _workQueueDepth = factory.CreateGauge("comfy_operator_workqueue_depth", "Keys waiting in the work queue (not counting delayed requeues), by resource kind.", "kind");
        _workQueueRetries = factory.CreateCounter("comfy_operator_workqueue_retries_total", "Keys re-queued after a failed or requeue-after reconcile, by resource kind.", "kind");
        _probeDuration = factory.CreateHistogram("comfy_operator_probe_duration_seconds", "ComfyUI readiness probe latency.", ProbeBuckets);
        _probeFailures = factory.CreateCounter("comfy_operator_probe_failures_total", "Failed ComfyUI probes, by reason (timeout, http, connection).", "reason");
        _nodesByPhase = factory.CreateGauge("comfy_operator_nodes", "ComfyNodes by phase.", "phase");
        _leader = factory.CreateGauge("comfy_operator_leader", "1 while this replica holds the leader lease, else 0.");
        _apiRequests = factory.CreateCounter("kubernetes_client_requests_total", "Kubernetes API requests by verb and HTTP code (\"error\" when no answer came).", "code", "verb");
        _apiRequestDuration = factory.CreateHistogram("kubernetes_client_request_duration_seconds", "Kubernetes API request latency (watch: time to response headers).", ["code", "verb"]);
        factory.Registry.AddBeforeCollectCallback(ReadCurrentState);
    }

    public void ObserveNodes(Func<IEnumerable<(string Phase, int Count)>> source) => _nodes = source;

    public void Reconciled(string kind, string result, TimeSpan elapsed)
    {
        _reconciles.WithLabels(kind, result)?.Inc();
        _reconcileDuration.WithLabels(kind)?.Observe(elapsed.TotalSeconds);
    }

    /// <summary>Reports <paramref name="depth"/> as the queue depth of <paramref name="kind"/> until <see cref="ForgetQueue"/>.</summary>
    public void ObserveQueue(string kind, Func<int> depth) => _queues[kind] = depth;

    /// <summary>The queue of <paramref name="kind"/> is gone (leadership lost): its depth reads 0.</summary>
    public void ForgetQueue(string kind) => _queues[kind] = static () => 0;

    /// <summary>Nodes by phase go back to none (leadership lost: another replica reports them).</summary>
    public void ForgetNodes() => _nodes = static () => [];

    /// <summary>A key went back to the queue with backoff after a failed reconcile.</summary>
    public void Retried(string kind) => _workQueueRetries.WithLabels(kind)?.Inc();

    public void Probed(TimeSpan elapsed, string? failureReason)
    {
        _probeDuration.Observe(elapsed.TotalSeconds);
        if (failureReason is not null)
        {
            _probeFailures.WithLabels(failureReason)?.Inc();
        }
    }

    public void LeaderChanged(bool isLeader) => _leader.Set(isLeader ? 1 : 0);

    /// <summary>
    /// One Kubernetes API request attempt (retries included): <paramref name="verb"/> as in RBAC
    /// (<c>get</c>, <c>list</c>, <c>watch</c>, <c>create</c>, <c>update</c>, <c>patch</c>, <c>delete</c>),
    /// <paramref name="code"/> the HTTP status code or <c>error</c> when no answer came; a watch is timed to its response headers.
    /// </summary>
    public void KubernetesRequest(string verb, string code, TimeSpan elapsed)
    {
        _apiRequests.WithLabels(code, verb)?.Inc();
        _apiRequestDuration.WithLabels(code, verb)?.Observe(elapsed.TotalSeconds);
    }

    /// <summary>Runs before every scrape: the gauges of current state read it now.</summary>
    private void ReadCurrentState()
    {
        _workQueueDepth.Replace(_queues.Select(static q => (new[] { q.Key }, (double)q.Value())), static (gauge, value) => gauge.Set(value));
        _nodesByPhase.Replace(_nodes().Select(static n => (new[] { n.Phase }, (double)n.Count)), static (gauge, value) => gauge.Set(value));
    }
}
