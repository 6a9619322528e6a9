using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Active health: <c>GET /system_stats</c> on every worker each <c>ProbeInterval</c>, each with its
/// own <c>ProbeTimeout</c>. A worker whose WebSocket is open and whose answer did not change is asked
/// half as often each time, down to once every <see cref="IdleProbeFactor"/> intervals (each worker a
/// little sooner than that, by an amount drawn at each probe, so a fleet is not probed all at once); a change, a
/// failure or a closed socket brings it back to every interval. While the socket is open its
/// keep-alive is the worker's health: a dead peer, or a hung process that keeps its TCP connection
/// open, stops answering pings and loses the socket within the keep-alive interval and timeout, and is
/// then probed every interval. So an idle worker's HTTP connection is mostly closed (the pool drops it
/// after a minute unused) instead of being kept open by probes. Also logs clearly when no worker is
/// configured at all.
/// </summary>
/// <param name="isConnected">Whether the worker's WebSocket is open now; null probes every worker every interval.</param>
internal sealed partial class HealthProber(
    WorkerRegistry registry,
    IHttpClientFactory httpClients,
    IOptions<RouterOptions> options,
    TimeProvider time,
    ILogger<HealthProber> logger,
    Func<WorkerState, bool>? isConnected = null) : BackgroundService
{
    public const string HttpClientName = "comfy-worker";

    /// <summary>Failures in a row before a healthy worker is marked unhealthy.</summary>
    private const int FailureThreshold = 2;

    /// <summary>
    /// A connected worker that keeps answering the same is probed at least every this many intervals
    /// (5 min 20 s by default), only to refresh its version and devices.
    /// </summary>
    internal const int IdleProbeFactor = 32;

    private readonly RouterOptions _options = options.Value;

    /// <summary>
    /// Per worker: how many intervals apart its probes are now (1, 2, 4 … <see cref="IdleProbeFactor"/>), and
    /// how many intervals its next probe waits: from a spacing of 4 on, fewer by a number drawn below half the
    /// spacing at each probe. Workers that connected together would otherwise back off in step and be
    /// probed all in the same round for good: at 1,000 workers a thousand connections opened at once, and
    /// the router's working set jumped by 20 MB each time.
    /// </summary>
    private readonly ConcurrentDictionary<WorkerState, (int Spacing, int Wait)> _spacing = new();
    private TaskCompletionSource _probeNow = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Asks for a probe round now (new workers, a worker suspected lost).</summary>
    public void ProbeSoon() => _probeNow.TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.Changed += (_, _) => ProbeSoon();
        var warnedEmpty = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var workers = registry.Workers;
            if (workers.Count == 0 && !warnedEmpty)
            {
                LogNoNodes(logger);
                warnedEmpty = true;
            }
            else if (workers.Count > 0)
            {
                warnedEmpty = false;
            }

            _probeNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await Task.WhenAll(workers.Where(IsDue).Select(worker => ProbeAsync(worker, stoppingToken)));
            foreach (var gone in _spacing.Keys.Where(w => w.Removed))
            {
                _spacing.TryRemove(gone, out _);
            }

            try
            {
                await _probeNow.Task.WaitAsync(_options.ProbeInterval, time, stoppingToken);
            }
            catch (TimeoutException)
            {
                // The interval elapsed: next round.
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Whether this round probes <paramref name="worker"/>: always while its socket is closed or its answers change.</summary>
    internal bool IsDue(WorkerState worker)
    {
        if (isConnected is null || !_spacing.TryGetValue(worker, out var spacing) || spacing.Wait <= 1 || !isConnected(worker))
        {
            return true;
        }

        // The round's wait is at most one interval, so a probe is due once most of its spacing has passed.
        return worker.LastProbeAt is not { } last || time.GetUtcNow() - last >= (_options.ProbeInterval * (spacing.Wait - 1)) + (_options.ProbeInterval / 2);
    }

    private static (int Spacing, int Wait) Spaced(int spacing) =>
        (spacing, spacing < 4 ? spacing : spacing - Random.Shared.Next(spacing / 2));

    internal async Task ProbeAsync(WorkerState worker, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        var wasHealthy = worker.ActiveHealth == HealthState.Healthy;
        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var document = await client.GetFromJsonAsync<JsonDocument>(new Uri(worker.BaseAddress, "system_stats"), timeout.Token);
            var root = document?.RootElement ?? default;
            string? version = null;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("system", out var system) && system.TryGetProperty("comfyui_version", out var v) && v.ValueKind == JsonValueKind.String)
            {
                version = v.GetString();
            }

            var devices = new List<GpuDevice>();
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("devices", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var device in list.EnumerateArray())
                {
                    devices.Add(new GpuDevice(
                        device.TryGetProperty("name", out var name) ? name.ToString() : "",
                        device.TryGetProperty("type", out var type) ? type.ToString() : "",
                        device.TryGetProperty("vram_total", out var total) && total.TryGetInt64(out var t) ? t : 0,
                        device.TryGetProperty("vram_free", out var free) && free.TryGetInt64(out var f) ? f : 0));
                }
            }

            var unchanged = wasHealthy && worker.ComfyVersion == version && worker.Devices.Select(d => (d.Name, d.Type, d.VramTotal)).SequenceEqual(devices.Select(d => (d.Name, d.Type, d.VramTotal)));
            _spacing[worker] = Spaced(unchanged && isConnected?.Invoke(worker) == true
                ? Math.Min(IdleProbeFactor, 2 * (_spacing.TryGetValue(worker, out var current) ? current.Spacing : 1))
                : 1);
            worker.ReportProbeSuccess(time.GetUtcNow(), version, devices);
            if (!wasHealthy)
            {
                LogHealthy(logger, worker.Name, version);
                Recovered?.Invoke(this, worker);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or NotSupportedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var error = ex is OperationCanceledException ? $"probe timed out after {_options.ProbeTimeout.TotalSeconds:0.#}s" : ex.Message;
            _spacing[worker] = Spaced(1);
            worker.ReportProbeFailure(time.GetUtcNow(), error, FailureThreshold);
            if (wasHealthy && worker.ActiveHealth == HealthState.Unhealthy)
            {
                LogUnhealthy(logger, worker.Name, error);
                Lost?.Invoke(this, worker);
            }
        }
    }

    /// <summary>A worker's probe started succeeding.</summary>
    public event EventHandler<WorkerState>? Recovered;

    /// <summary>A healthy worker's probe failed past the threshold.</summary>
    public event EventHandler<WorkerState>? Lost;

    [LoggerMessage(EventId = EventIds.HealthProberNoNodes, Level = LogLevel.Warning, Message = "No ComfyUI nodes are configured: runs will wait in the queue. Set COMFY_ROUTER__NODES (e.g. http://gpu[1-8]:8188) or COMFY_ROUTER__SERVERS_FILE.")]
    private static partial void LogNoNodes(ILogger logger);

    [LoggerMessage(EventId = EventIds.HealthProberHealthy, Level = LogLevel.Information, Message = "Worker {Worker} is healthy (ComfyUI {Version})")]
    private static partial void LogHealthy(ILogger logger, string worker, string? version);

    [LoggerMessage(EventId = EventIds.HealthProberUnhealthy, Level = LogLevel.Warning, Message = "Worker {Worker} is unhealthy: {Error}")]
    private static partial void LogUnhealthy(ILogger logger, string worker, string error);
}
