using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ComfyOperator.Router.Metrics;

/// <summary>
/// Every router instrument (meter <c>ComfyOperator.Router</c>), named the Prometheus way. Gauges that
/// describe current state read it at scrape time through the <c>Observe*</c> sources.
/// </summary>
internal sealed class RouterMetrics
{
    public const string MeterName = "ComfyOperator.Router";

    /// <summary>Worker states the gauge always reports (1 for the current one, 0 for the others).</summary>
    public static readonly IReadOnlyList<string> WorkerStates = ["Idle", "Busy", "Offline", "Draining", "Pending"];

    private static readonly double[] ByteBuckets = [1024, 16384, 262144, 1048576, 8388608, 67108864, 268435456, 1073741824];

    private readonly Counter<long> _runsSubmitted;
    private readonly Counter<long> _runsFinished;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _runDuration;
    private readonly Histogram<double> _timeToFirstProgress;
    private readonly Counter<long> _dispatches;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _checkpointSwitches;
    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _cacheMisses;
    private readonly Counter<long> _cacheEvictions;
    private readonly UpDownCounter<long> _downloadsInFlight;
    private readonly Counter<long> _s3UploadBytes;
    private readonly Counter<long> _s3UploadFailures;
    private readonly Histogram<long> _s3UploadSize;
    private readonly Counter<long> _webhookDeliveries;
    private readonly Counter<long> _httpRequests;
    private readonly Histogram<double> _httpDuration;

    private Func<IEnumerable<(string Worker, string State)>> _workers = static () => [];
    private Func<IEnumerable<(string Workflow, int Priority, int Count)>> _queue = static () => [];
    private Func<long> _cacheBytes = static () => 0;

    public RouterMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _runsSubmitted = meter.CreateCounter<long>("comfy_router_runs_submitted_total", description: "Runs accepted into the queue, by workflow.");
        _runsFinished = meter.CreateCounter<long>("comfy_router_runs_finished_total", description: "Runs that reached a final state, by workflow and outcome (succeeded, failed, cancelled).");
        _queueWait = meter.CreateHistogram<double>("comfy_router_queue_wait_seconds", "s", "Time from submission to dispatch, by workflow.");
        _runDuration = meter.CreateHistogram<double>("comfy_router_run_duration_seconds", "s", "Time from dispatch to the final state, by workflow and outcome.");
        _timeToFirstProgress = meter.CreateHistogram<double>("comfy_router_time_to_first_progress_seconds", "s", "Time from dispatch to the first progress event, by workflow.");
        meter.CreateObservableGauge("comfy_router_queue_depth", ObserveQueue, description: "Runs waiting in the router's queue, by workflow and priority.");
        meter.CreateObservableGauge("comfy_router_worker_state", ObserveWorkers, description: "1 for the state each worker is in (Idle, Busy, Offline, Draining, Pending), 0 for the others.");
        _dispatches = meter.CreateCounter<long>("comfy_router_dispatches_total", description: "Prompts sent to workers, by worker.");
        _retries = meter.CreateCounter<long>("comfy_router_retries_total", description: "Runs put back in the queue after their worker was lost, by workflow.");
        _checkpointSwitches = meter.CreateCounter<long>("comfy_router_checkpoint_switches_total", description: "Runs that made a worker load a different checkpoint (model loads), by worker.");
        _cacheHits = meter.CreateCounter<long>("comfy_router_input_cache_hits_total", description: "Input files served from the cache.");
        _cacheMisses = meter.CreateCounter<long>("comfy_router_input_cache_misses_total", description: "Input files that had to be downloaded.");
        _cacheEvictions = meter.CreateCounter<long>("comfy_router_input_cache_evictions_total", description: "Input files evicted from the cache.");
        meter.CreateObservableGauge("comfy_router_input_cache_bytes", () => _cacheBytes(), "By", "Bytes held in the input cache.");
        _downloadsInFlight = meter.CreateUpDownCounter<long>("comfy_router_input_downloads_in_flight", description: "Input downloads under way.");
        _s3UploadBytes = meter.CreateCounter<long>("comfy_router_s3_upload_bytes_total", "By", "Output bytes uploaded to object storage.");
        _s3UploadFailures = meter.CreateCounter<long>("comfy_router_s3_upload_failures_total", description: "Output uploads to object storage that failed.");
        _s3UploadSize = meter.CreateHistogram<long>("comfy_router_s3_upload_size_bytes", "By", "Sizes of uploaded outputs.", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [.. ByteBuckets.Select(static b => (long)b)] });
        _webhookDeliveries = meter.CreateCounter<long>("comfy_router_webhook_deliveries_total", description: "Webhook delivery attempts, by outcome (delivered, failed, gave_up).");
        _httpRequests = meter.CreateCounter<long>("comfy_router_http_requests_total", description: "HTTP requests served, by route template, method and status code.");
        _httpDuration = meter.CreateHistogram<double>("comfy_router_http_request_duration_seconds", "s", "HTTP request latency, by route template and method.");
    }

    public void ObserveWorkers(Func<IEnumerable<(string Worker, string State)>> source) => _workers = source;

    public void ObserveQueue(Func<IEnumerable<(string Workflow, int Priority, int Count)>> source) => _queue = source;

    public void ObserveInputCacheBytes(Func<long> source) => _cacheBytes = source;

    public void RunSubmitted(string workflow) => _runsSubmitted.Add(1, new KeyValuePair<string, object?>("workflow", workflow));

    public void RunDispatched(string workflow, string worker, TimeSpan queueWait)
    {
        _dispatches.Add(1, new KeyValuePair<string, object?>("worker", worker));
        _queueWait.Record(queueWait.TotalSeconds, new KeyValuePair<string, object?>("workflow", workflow));
    }

    public void FirstProgress(string workflow, TimeSpan sinceDispatch) =>
        _timeToFirstProgress.Record(sinceDispatch.TotalSeconds, new KeyValuePair<string, object?>("workflow", workflow));

    /// <summary><paramref name="duration"/> is null when the run never reached a worker (cancelled in the queue).</summary>
    public void RunFinished(string workflow, string outcome, TimeSpan? duration)
    {
        var tags = new TagList { { "workflow", workflow }, { "outcome", outcome } };
        _runsFinished.Add(1, tags);
        if (duration is { } elapsed)
        {
            _runDuration.Record(elapsed.TotalSeconds, tags);
        }
    }

    public void RunRetried(string workflow) => _retries.Add(1, new KeyValuePair<string, object?>("workflow", workflow));

    public void CheckpointSwitched(string worker) => _checkpointSwitches.Add(1, new KeyValuePair<string, object?>("worker", worker));

    public void InputCacheHit() => _cacheHits.Add(1);

    public void InputCacheMiss() => _cacheMisses.Add(1);

    public void InputCacheEvicted(int files = 1) => _cacheEvictions.Add(files);

    public void InputDownloadStarted() => _downloadsInFlight.Add(1);

    public void InputDownloadEnded() => _downloadsInFlight.Add(-1);

    public void S3Uploaded(long bytes)
    {
        _s3UploadBytes.Add(bytes);
        _s3UploadSize.Record(bytes);
    }

    public void S3UploadFailed() => _s3UploadFailures.Add(1);

    public void WebhookDelivery(string outcome) => _webhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void HttpRequest(string route, string method, int status, TimeSpan elapsed)
    {
        _httpRequests.Add(1, new TagList { { "route", route }, { "method", method }, { "status", StatusText(status) } });
        _httpDuration.Record(elapsed.TotalSeconds, new TagList { { "route", route }, { "method", method } });
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
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private IEnumerable<Measurement<int>> ObserveWorkers()
    {
        foreach (var (worker, state) in _workers())
        {
            foreach (var candidate in WorkerStates)
            {
                yield return new Measurement<int>(candidate == state ? 1 : 0, new KeyValuePair<string, object?>("worker", worker), new KeyValuePair<string, object?>("state", candidate));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveQueue()
    {
        foreach (var (workflow, priority, count) in _queue())
        {
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>("workflow", workflow), new KeyValuePair<string, object?>("priority", priority));
        }
    }
}
