using System.Globalization;
using ComfyOperator.Observability.Metrics;
using ComfyOperator.Router.Runs;
using Prometheus;

namespace ComfyOperator.Router.Metrics;

/// <summary>
/// Every router metric, defined with prometheus-net in the router's registry. Gauges that describe
/// current state read it at scrape time through the <c>Observe*</c> sources.
/// </summary>
internal sealed class RouterMetrics
{
    /// <summary>Worker states the gauge always reports (1 for the current one, 0 for the others).</summary>
    public static readonly IReadOnlyList<string> WorkerStates = ["Idle", "Busy", "Offline", "Draining", "Pending"];

    private static readonly double[] ByteBuckets = [1024, 16384, 262144, 1048576, 8388608, 67108864, 268435456, 1073741824];

    private readonly CappedMetric<Counter.Child> _runsSubmitted;
    private readonly CappedMetric<Counter.Child> _runsFinished;
    private readonly CappedMetric<Histogram.Child> _queueWait;
    private readonly CappedMetric<Histogram.Child> _runDuration;
    private readonly CappedMetric<Histogram.Child> _timeToFirstProgress;
    private readonly CappedMetric<Gauge.Child> _queueDepth;
    private readonly CappedMetric<Gauge.Child> _workerState;
    private readonly CappedMetric<Gauge.Child> _workflowRuns;
    private readonly CappedMetric<Counter.Child> _dispatches;
    private readonly CappedMetric<Counter.Child> _retries;
    private readonly CappedMetric<Counter.Child> _checkpointSwitches;
    private readonly Counter _cacheHits;
    private readonly Counter _cacheMisses;
    private readonly Counter _cacheEvictions;
    private readonly Gauge _cacheBytesGauge;
    private readonly Gauge _downloadsInFlight;
    private readonly Counter _s3UploadBytes;
    private readonly Counter _s3UploadFailures;
    private readonly Histogram _s3UploadSize;
    private readonly CappedMetric<Counter.Child> _webhookDeliveries;
    private readonly CappedMetric<Counter.Child> _httpRequests;
    private readonly CappedMetric<Histogram.Child> _httpDuration;

    private Func<IEnumerable<(string Worker, string State)>> _workers = static () => [];
    private Func<IEnumerable<(string Workflow, int Priority, int Count)>> _queue = static () => [];
    private Func<long> _cacheBytes = static () => 0;
    private Func<CancellationToken, Task<IEnumerable<(string Workflow, WorkflowDemand Demand)>>> _demand = static _ => Task.FromResult(Enumerable.Empty<(string, WorkflowDemand)>());

    public RouterMetrics(CappedMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _runsSubmitted = factory.CreateCounter("comfy_router_runs_submitted_total", "Runs accepted into the queue, by workflow.", "workflow");
        _runsFinished = factory.CreateCounter("comfy_router_runs_finished_total", "Runs that reached a final state, by workflow and outcome (succeeded, failed, cancelled).", "outcome", "workflow");
        _queueWait = factory.CreateHistogram("comfy_router_queue_wait_seconds", "Time from submission to dispatch, by workflow.", ["workflow"]);
        _runDuration = factory.CreateHistogram("comfy_router_run_duration_seconds", "Time from dispatch to the final state, by workflow and outcome.", ["outcome", "workflow"]);
        _timeToFirstProgress = factory.CreateHistogram("comfy_router_time_to_first_progress_seconds", "Time from dispatch to the first progress event, by workflow.", ["workflow"]);
        _queueDepth = factory.CreateGauge("comfy_router_queue_depth", "Runs waiting in the router's queue, by workflow and priority.", "priority", "workflow");
        _workflowRuns = factory.CreateGauge("comfy_router_workflow_runs", "Runs of each workflow pending (queued) or running (dispatching or running), from the run store: the same on every router replica. What autoscaling reads.", "state", "workflow");
        _workerState = factory.CreateGauge("comfy_router_worker_state", "1 for the state each worker is in (Idle, Busy, Offline, Draining, Pending), 0 for the others.", "state", "worker");
        _dispatches = factory.CreateCounter("comfy_router_dispatches_total", "Prompts sent to workers, by worker.", "worker");
        _retries = factory.CreateCounter("comfy_router_retries_total", "Runs put back in the queue after their worker was lost, by workflow.", "workflow");
        _checkpointSwitches = factory.CreateCounter("comfy_router_checkpoint_switches_total", "Runs that made a worker load a different checkpoint (model loads), by worker.", "worker");
        _cacheHits = factory.CreateCounter("comfy_router_input_cache_hits_total", "Input files served from the cache.");
        _cacheMisses = factory.CreateCounter("comfy_router_input_cache_misses_total", "Input files that had to be downloaded.");
        _cacheEvictions = factory.CreateCounter("comfy_router_input_cache_evictions_total", "Input files evicted from the cache.");
        _cacheBytesGauge = factory.CreateGauge("comfy_router_input_cache_bytes", "Bytes held in the input cache.");
        _downloadsInFlight = factory.CreateGauge("comfy_router_input_downloads_in_flight", "Input downloads under way.");
        _s3UploadBytes = factory.CreateCounter("comfy_router_s3_upload_bytes_total", "Output bytes uploaded to object storage.");
        _s3UploadFailures = factory.CreateCounter("comfy_router_s3_upload_failures_total", "Output uploads to object storage that failed.");
        _s3UploadSize = factory.CreateHistogram("comfy_router_s3_upload_size_bytes", "Sizes of uploaded outputs.", ByteBuckets);
        _webhookDeliveries = factory.CreateCounter("comfy_router_webhook_deliveries_total", "Webhook delivery attempts, by outcome (delivered, failed, gave_up).", "outcome");
        _httpRequests = factory.CreateCounter("comfy_router_http_requests_total", "HTTP requests served, by route template, method and status code.", "method", "route", "status");
        _httpDuration = factory.CreateHistogram("comfy_router_http_request_duration_seconds", "HTTP request latency, by route template and method.", ["method", "route"]);
        factory.Registry.AddBeforeCollectCallback(ReadCurrentState);
        factory.Registry.AddBeforeCollectCallback(ReadDemandAsync);
    }

    public void ObserveWorkers(Func<IEnumerable<(string Worker, string State)>> source) => _workers = source;

    public void ObserveQueue(Func<IEnumerable<(string Workflow, int Priority, int Count)>> source) => _queue = source;

    /// <summary>Demand per workflow, read before each scrape (every known workflow, zeros included).</summary>
    public void ObserveDemand(Func<CancellationToken, Task<IEnumerable<(string Workflow, WorkflowDemand Demand)>>> source) => _demand = source;

    public void ObserveInputCacheBytes(Func<long> source) => _cacheBytes = source;

    public void RunSubmitted(string workflow) => _runsSubmitted.WithLabels(workflow)?.Inc();

    public void RunDispatched(string workflow, string worker, TimeSpan queueWait)
    {
        _dispatches.WithLabels(worker)?.Inc();
        _queueWait.WithLabels(workflow)?.Observe(queueWait.TotalSeconds);
    }

    public void FirstProgress(string workflow, TimeSpan sinceDispatch) =>
        _timeToFirstProgress.WithLabels(workflow)?.Observe(sinceDispatch.TotalSeconds);

    /// <summary><paramref name="duration"/> is null when the run never reached a worker (cancelled in the queue).</summary>
    public void RunFinished(string workflow, string outcome, TimeSpan? duration)
    {
        _runsFinished.WithLabels(outcome, workflow)?.Inc();
        if (duration is { } elapsed)
        {
            _runDuration.WithLabels(outcome, workflow)?.Observe(elapsed.TotalSeconds);
        }
    }

    public void RunRetried(string workflow) => _retries.WithLabels(workflow)?.Inc();

    public void CheckpointSwitched(string worker) => _checkpointSwitches.WithLabels(worker)?.Inc();

    public void InputCacheHit() => _cacheHits.Inc();

    public void InputCacheMiss() => _cacheMisses.Inc();

    public void InputCacheEvicted(int files = 1) => _cacheEvictions.Inc(files);

    public void InputDownloadStarted() => _downloadsInFlight.Inc();

    public void InputDownloadEnded() => _downloadsInFlight.Dec();

    public void S3Uploaded(long bytes)
    {
        _s3UploadBytes.Inc(bytes);
        _s3UploadSize.Observe(bytes);
    }

    public void S3UploadFailed() => _s3UploadFailures.Inc();

    public void WebhookDelivery(string outcome) => _webhookDeliveries.WithLabels(outcome)?.Inc();

    public void HttpRequest(string route, string method, int status, TimeSpan elapsed)
    {
        _httpRequests.WithLabels(method, route, StatusText(status))?.Inc();
        _httpDuration.WithLabels(method, route)?.Observe(elapsed.TotalSeconds);
    }

    private static string StatusText(int status) => status switch
    {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        400 => "400",
        401 => "401",
        404 => "404",
        429 => "429",
        500 => "500",
        _ => status.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Runs before every scrape: the gauges of current state read it now.</summary>
    private void ReadCurrentState()
    {
        _workerState.Replace(WorkerSeries(), static (gauge, value) => gauge.Set(value));
        _queueDepth.Replace(
            _queue().Select(static q => (new[] { q.Priority.ToString(CultureInfo.InvariantCulture), q.Workflow }, (double)q.Count)),
            static (gauge, value) => gauge.Set(value));
        _cacheBytesGauge.Set(_cacheBytes());
    }

    private async Task ReadDemandAsync(CancellationToken cancellationToken)
    {
        var demand = await _demand(cancellationToken);
        _workflowRuns.Replace(
            demand.SelectMany(static d => new[] { (new[] { "pending", d.Workflow }, (double)d.Demand.Pending), (new[] { "running", d.Workflow }, (double)d.Demand.Running) }),
            static (gauge, value) => gauge.Set(value));
    }

    private IEnumerable<(string[] Labels, double Value)> WorkerSeries()
    {
        foreach (var (worker, state) in _workers())
        {
            foreach (var candidate in WorkerStates)
            {
                yield return ([candidate, worker], candidate == state ? 1 : 0);
            }
        }
    }
}
