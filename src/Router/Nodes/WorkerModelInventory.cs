using System.Collections.Concurrent;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Workflows;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Which model files each worker has, from <c>GET /models/{folder}</c> (the same lists ComfyUI
/// validates loader inputs against, so a run placed by them never fails with value_not_in_list).
/// Read when a worker appears or comes back healthy (a restart may bring other models), when its
/// node's model set changes, every <c>ModelRefreshInterval</c>, and soon after a run asks for a
/// model no worker is known to have.
/// </summary>
internal sealed partial class WorkerModelInventory(
    WorkerRegistry registry,
    HealthProber prober,
    IHttpClientFactory httpClients,
    IOptions<RouterOptions> routerOptions,
    IOptions<WorkflowRoutingOptions> options,
    TimeProvider time,
    ILogger<WorkerModelInventory> logger) : BackgroundService
{
    private static readonly TimeSpan MissingModelRefreshGap = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Uri, ModelSet> _sets = new();
    private readonly ConcurrentDictionary<string, byte> _folders = new(StringComparer.Ordinal)
    {
        ["checkpoints"] = 0,
        ["diffusion_models"] = 0,
        ["text_encoders"] = 0,
        ["vae"] = 0,
        ["loras"] = 0,
    };

    /// <summary>How long a submit waits for <see cref="RefreshNowAsync"/>.</summary>
    public static readonly TimeSpan RefreshNowLimit = TimeSpan.FromSeconds(2);

    private readonly Lock _refreshNowGate = new();
    private DateTimeOffset _lastRefreshNow = DateTimeOffset.MinValue;
    private TaskCompletionSource _refreshNow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _lastMissingRefresh = DateTimeOffset.MinValue;

    /// <summary>Raised after a worker's model lists were read.</summary>
    public event EventHandler? Changed;

    /// <summary>True when the worker's lists are known and hold every file; false (and a refresh is asked for) when unknown.</summary>
    public bool Has(WorkerState worker, IReadOnlyList<Runs.ModelRequirement> models)
    {
        if (models.Count == 0)
        {
            return true;
        }

        if (!_sets.TryGetValue(worker.BaseAddress, out var set))
        {
            RefreshSoon();
            return false;
        }

        foreach (var model in models)
        {
            if (!set.Folders.TryGetValue(model.Folder, out var files))
            {
                if (_folders.TryAdd(model.Folder, 0))
                {
                    Invalidate(null);
                }

                return false;
            }

            if (!files.Contains(model.File))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The model files known on a worker, by folder (empty when not read yet).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> ModelsOf(WorkerState worker) =>
        _sets.TryGetValue(worker.BaseAddress, out var set) ? set.Folders : new Dictionary<string, IReadOnlySet<string>>();

    public bool IsKnown(WorkerState worker) => _sets.ContainsKey(worker.BaseAddress);

    /// <summary>Makes sure the folder is read on every worker.</summary>
    public void Track(string folder)
    {
        if (_folders.TryAdd(folder, 0))
        {
            Invalidate(null);
        }
    }

    /// <summary>A run needs a model no worker is known to have: read the lists again (at most every few seconds).</summary>
    public void ReportMissing()
    {
        var now = time.GetUtcNow();
        if (now - _lastMissingRefresh >= MissingModelRefreshGap)
        {
            _lastMissingRefresh = now;
            Invalidate(null);
        }
    }

    /// <summary>
    /// Reads every healthy worker's lists now (at most once a second, within <see cref="RefreshNowLimit"/>):
    /// asked before a run is refused because no worker has its models, so a list read before a model
    /// was copied in never turns the run away.
    /// </summary>
    public async Task RefreshNowAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_refreshNowGate)
        {
            if (now - _lastRefreshNow < TimeSpan.FromSeconds(1))
            {
                return;
            }

            _lastRefreshNow = now;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RefreshNowLimit);
        try
        {
            await WorkerReads.ForEachAsync(registry.Workers.Where(w => w.ActiveHealth == HealthState.Healthy), RefreshAsync, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever was read in time counts; the caller decides on what is known.
        }
    }

    /// <summary>Forgets one worker's lists (or all with null) and reads them again soon.</summary>
    public void Invalidate(Uri? worker)
    {
        if (worker is null)
        {
            foreach (var key in _sets.Keys)
            {
                _sets[key] = _sets[key] with { Stale = true };
            }
        }
        else if (_sets.TryGetValue(worker, out var set))
        {
            _sets[worker] = set with { Stale = true };
        }

        RefreshSoon();
    }

    public void RefreshSoon() => _refreshNow.TrySetResult();

    /// <summary>Reads one worker's lists now.</summary>
    public async Task RefreshAsync(WorkerState worker, CancellationToken cancellationToken)
    {
        try
        {
            // The folders one after another on one pooled connection, which the last request closes (WorkerReads.Client).
            using var http = httpClients.CreateClient(HealthProber.HttpClientName);
            using var closing = WorkerReads.Client(httpClients);
            var options = new ComfyClientOptions { RequestTimeout = routerOptions.Value.WorkerRequestTimeout };
            var client = new ComfyClient(http, worker.BaseAddress, options, time);
            var last = new ComfyClient(closing, worker.BaseAddress, options, time);
            var names = _folders.Keys.ToList();
            var folders = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                var files = await (i == names.Count - 1 ? last : client).GetModelsAsync(names[i], cancellationToken);
                folders[names[i]] = new HashSet<string>(files ?? [], StringComparer.Ordinal);
            }

            Record(worker.BaseAddress, folders);
        }
        catch (Exception ex) when (ex is HttpRequestException or ComfyHttpException or TimeoutException or System.Text.Json.JsonException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogRefreshFailed(logger, worker.Name, ex.Message);
        }
    }

    /// <summary>Stores a worker's model lists as read (also how benches and tests seed them).</summary>
    public void Record(Uri worker, IReadOnlyDictionary<string, IReadOnlySet<string>> folders)
    {
        _sets[worker] = new ModelSet(folders, time.GetUtcNow(), false);
        Changed?.Invoke(this, EventArgs.Empty);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.Changed += (_, _) => RefreshSoon();
        prober.Recovered += (_, worker) => Invalidate(worker.BaseAddress);
        while (!stoppingToken.IsCancellationRequested)
        {
            _refreshNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var now = time.GetUtcNow();
            var due = registry.Workers
                .Where(w => w.ActiveHealth == HealthState.Healthy)
                .Where(w => !_sets.TryGetValue(w.BaseAddress, out var set) || set.Stale || now - set.ReadAt >= options.Value.ModelRefreshInterval)
                .ToList();
            await WorkerReads.ForEachAsync(due, RefreshAsync, stoppingToken);
            foreach (var gone in _sets.Keys.Where(k => registry.Find(k.ToString()) is null).ToList())
            {
                _sets.TryRemove(gone, out _);
            }

            try
            {
                // Workers turn healthy on their own schedule: look again soon while some are unread.
                var wait = registry.Workers.Any(w => !_sets.ContainsKey(w.BaseAddress)) ? TimeSpan.FromMilliseconds(250) : options.Value.ModelRefreshInterval;
                await _refreshNow.Task.WaitAsync(wait, time, stoppingToken);
            }
            catch (TimeoutException)
            {
                // Next round.
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    [LoggerMessage(EventId = EventIds.WorkerModelInventoryRefreshFailed, Level = LogLevel.Warning, Message = "Reading the model lists of {Worker} failed: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string worker, string error);

    private sealed record ModelSet(IReadOnlyDictionary<string, IReadOnlySet<string>> Folders, DateTimeOffset ReadAt, bool Stale);
}
