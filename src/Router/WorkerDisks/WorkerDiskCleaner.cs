using System.Net;
using System.Net.Http.Json;
using ComfyOperator.Entities;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.WorkerDisks;

/// <summary>
/// Deletes from a worker's disk what the router no longer needs there: a run's outputs once they are
/// in the output store (its <c>succeeded</c> event), and the input files the router uploaded for an
/// attempt once no attempt on that worker uses them (input names are content hashes, so runs share
/// them). Deletions fall due <see cref="WorkerDiskOptions.KeepFor"/> later and go out in one request
/// per worker to the cleanup route (<see cref="WorkerCleanup.Route"/>), only for workers that have it:
/// managed ComfyNodes, and external workers that opt in. Nothing is stored: at start the due
/// deletions are worked out again from the runs that finished within <see cref="WorkerDiskOptions.KeepFor"/>.
/// </summary>
internal sealed partial class WorkerDiskCleaner(
    WorkerRegistry registry,
    IRunStore store,
    IHttpClientFactory clients,
    IOptions<WorkerDiskOptions> options,
    IOptions<InputCacheOptions> inputs,
    IOptions<RouterOptions> router,
    TimeProvider time,
    ILogger<WorkerDiskCleaner> logger) : BackgroundService, IRunEventObserver
{
    /// <summary>Files sent in one request at most.</summary>
    internal const int MaxFilesPerRequest = 100;

    /// <summary>Attempts per deletion before it is given up (worker unreachable, unknown or failing).</summary>
    internal const int MaxTries = 6;

    /// <summary>Longest the loop sleeps: a clock that jumps (or a deletion added meanwhile) is seen within it.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>At start, runs finished this much before the keep window are cleaned again (the process may have stopped before sending).</summary>
    private static readonly TimeSpan RecoverySlack = TimeSpan.FromMinutes(1);

    /// <summary>How long a run may have waited in the router's queue and still be found by the start-up scan.</summary>
    private static readonly TimeSpan RecoveryQueueAllowance = TimeSpan.FromHours(1);

    private readonly WorkerDiskOptions _options = options.Value;
    private readonly bool _uploadsInputs = !inputs.Value.LinksIntoWorkers;
    private readonly HashSet<Uri> _optedIn = [.. NodeAddressParser.ParseEntries(options.Value.Workers)];
    private readonly Lock _gate = new();

    // Under _gate: the input files each run's current attempt placed, how many attempts use each file,
    // the deletions waiting to fall due, and the request in flight per worker.
    private readonly Dictionary<string, Placement> _placements = new(StringComparer.Ordinal);
    private readonly Dictionary<(Uri Worker, WorkerFile File), int> _inUse = [];
    private readonly Dictionary<(Uri Worker, WorkerFile File), PendingDeletion> _pending = [];
    private readonly Dictionary<Uri, Task> _sending = [];
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Deletions waiting to fall due (for tests and logs).</summary>
    internal int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>The token to send to this worker, or null when it is not cleaned (cleanup off, or the worker has no route).</summary>
    internal string? TokenFor(NodeEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (_options.Token is not { Length: > 0 } secret)
        {
            return null;
        }

        if (endpoint.Managed && endpoint.ResourceName?.Split('/') is [var ns, var name])
        {
            return WorkerCleanup.TokenFor(secret, ns, name);
        }

        var optedIn = (endpoint.Labels.TryGetValue(WorkerCleanup.OptInLabel, out var label) && string.Equals(label, "true", StringComparison.OrdinalIgnoreCase))
            || _optedIn.Contains(endpoint.BaseAddress);
        return optedIn ? secret : null;
    }

    /// <summary>
    /// Before an attempt uploads its inputs to <paramref name="worker"/>: they are in use from now on (a
    /// deletion of one that is due is called off), and a cleanup request already on its way to that worker
    /// is waited for, so it cannot delete a file this attempt is about to use.
    /// </summary>
    public async Task PlacingInputsAsync(RunRecord run, WorkerState worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(worker);
        if (!_uploadsInputs || TokenFor(worker.Endpoint) is null)
        {
            return;
        }

        Task? inFlight;
        lock (_gate)
        {
            Place(run.Id, worker.BaseAddress, InputFilesOf(run));
            inFlight = _sending.GetValueOrDefault(worker.BaseAddress);
        }

        if (inFlight is not null)
        {
            await inFlight.WaitAsync(cancellationToken);
        }
    }

    void IRunEventObserver.OnEvent(RunRecord run, RunEvent runEvent)
    {
        if (!_options.Enabled)
        {
            return;
        }

        switch (runEvent.Type)
        {
            case RunEventTypes.Succeeded:
                Finished(Cleans(WorkerOf(run)) ? run : run with { Outputs = [] }, WorkerOf(run), _options.KeepFor);
                break;
            case RunEventTypes.Failed or RunEventTypes.Cancelled or RunEventTypes.Requeued:
                // The worker may still hold the inputs; outputs of a run that did not succeed are not stored anywhere else.
                Finished(run with { Outputs = [] }, WorkerOf(run), _options.KeepFor);
                break;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        try
        {
            await RecoverAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is Storage.StorageException or InvalidOperationException)
        {
            LogRecoveryFailed(logger, ex);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var due = TakeDue(time.GetUtcNow());
            if (due.Count > 0)
            {
                await Task.WhenAll(due.GroupBy(d => d.Worker).Select(g => SendAsync(g.Key, [.. g.Select(d => d.File)], g.Max(d => d.Deletion.Tries), stoppingToken)));
                continue;
            }

            Task wake;
            lock (_gate)
            {
                if (_wake.Task.IsCompleted)
                {
                    _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                wake = _wake.Task;
            }

            try
            {
                await Task.WhenAny(wake, Task.Delay(Tick, time, stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Start-up: attempts still on workers hold their inputs; runs that finished within the keep window are cleaned when due.</summary>
    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        foreach (var run in await store.ListUnfinishedAsync(cancellationToken))
        {
            if (run.Status is RunStatus.Dispatching or RunStatus.Running && WorkerOf(run) is { } worker && _uploadsInputs)
            {
                lock (_gate)
                {
                    Place(run.Id, worker, InputFilesOf(run));
                }
            }
        }

        var now = time.GetUtcNow();
        var since = now - _options.KeepFor - RecoverySlack;
        var oldestQueued = since - (router.Value.RunTimeout * router.Value.MaxAttempts) - RecoveryQueueAllowance;
        long? before = null;
        var scheduled = 0;
        while (true)
        {
            var page = await store.ListAsync(RunQuery.All, 200, before, cancellationToken);
            foreach (var run in page.Runs)
            {
                if (run.Status.IsTerminal() && run.FinishedAt is { } finished && finished >= since && WorkerOf(run) is { } worker)
                {
                    var keep = finished + _options.KeepFor - now;
                    scheduled += Finished(run.Status == RunStatus.Succeeded ? run : run with { Outputs = [] }, worker, keep > TimeSpan.Zero ? keep : TimeSpan.Zero);
                }
            }

            if (page.NextBefore is not { } next || page.Runs.All(r => r.QueuedAt < oldestQueued))
            {
                break;
            }

            before = next;
        }

        if (scheduled > 0)
        {
            LogRecovered(logger, scheduled);
        }
    }

    /// <summary>The run's attempt on <paramref name="worker"/> is over: its outputs and the inputs nobody else uses fall due after <paramref name="keep"/>. Returns how many deletions were scheduled.</summary>
    private int Finished(RunRecord run, Uri? worker, TimeSpan keep)
    {
        var due = time.GetUtcNow() + keep;
        var scheduled = 0;
        lock (_gate)
        {
            if (_placements.Remove(run.Id, out var placement))
            {
                foreach (var file in Release(placement))
                {
                    scheduled += Schedule(placement.Worker, file, due);
                }
            }
            else if (worker is not null && run.Status.IsTerminal() && _uploadsInputs)
            {
                // Found at start-up: nothing placed since names these files (a run that did was marked in use before this).
                foreach (var file in InputFilesOf(run))
                {
                    scheduled += _inUse.ContainsKey((worker, file)) ? 0 : Schedule(worker, file, due);
                }
            }

            if (worker is not null)
            {
                foreach (var output in run.Outputs)
                {
                    if (output.Source is { } source)
                    {
                        scheduled += Schedule(worker, source, due);
                    }
                }
            }

            if (scheduled > 0)
            {
                _wake.TrySetResult();
            }
        }

        return scheduled;
    }

    private void Place(string runId, Uri worker, IReadOnlyList<WorkerFile> files)
    {
        if (_placements.Remove(runId, out var previous))
        {
            // An attempt on another worker left nothing behind that this one keeps in use.
            foreach (var file in Release(previous))
            {
                Schedule(previous.Worker, file, time.GetUtcNow() + _options.KeepFor);
            }
        }

        _placements[runId] = new Placement(worker, files);
        foreach (var file in files)
        {
            _inUse[(worker, file)] = _inUse.GetValueOrDefault((worker, file)) + 1;
            _pending.Remove((worker, file));
        }
    }

    /// <summary>Drops the placement's uses; returns the files no other attempt on that worker uses.</summary>
    private List<WorkerFile> Release(Placement placement)
    {
        var unused = new List<WorkerFile>();
        foreach (var file in placement.Files)
        {
            var key = (placement.Worker, file);
            var count = _inUse.GetValueOrDefault(key) - 1;
            if (count > 0)
            {
                _inUse[key] = count;
            }
            else
            {
                _inUse.Remove(key);
                unused.Add(file);
            }
        }

        return unused;
    }

    private int Schedule(Uri worker, WorkerFile file, DateTimeOffset due)
    {
        if (_pending.TryGetValue((worker, file), out var existing) && existing.Due <= due)
        {
            return 0;
        }

        _pending[(worker, file)] = new PendingDeletion(due, 0);
        return 1;
    }

    private List<(Uri Worker, WorkerFile File, PendingDeletion Deletion)> TakeDue(DateTimeOffset now)
    {
        var due = new List<(Uri, WorkerFile, PendingDeletion)>();
        lock (_gate)
        {
            foreach (var ((worker, file), deletion) in _pending)
            {
                if (deletion.Due <= now && !_inUse.ContainsKey((worker, file)) && !_sending.ContainsKey(worker))
                {
                    due.Add((worker, file, deletion));
                }
            }

            foreach (var (worker, file, _) in due)
            {
                _pending.Remove((worker, file));
            }
        }

        return due;
    }

    private async Task SendAsync(Uri worker, List<WorkerFile> files, int tries, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _sending[worker] = done.Task;
        }

        try
        {
            var outcome = await TrySendAsync(worker, files, cancellationToken);
            if (outcome == SendOutcome.Retry && tries + 1 < MaxTries)
            {
                // 10 s, 20 s, 40 s...: a worker that restarts or a router that has not seen the worker yet (just started) gets time.
                var due = time.GetUtcNow() + TimeSpan.FromSeconds(10 * Math.Pow(2, tries));
                lock (_gate)
                {
                    foreach (var file in files)
                    {
                        if (!_inUse.ContainsKey((worker, file)))
                        {
                            _pending.TryAdd((worker, file), new PendingDeletion(due, tries + 1));
                        }
                    }
                }
            }
            else if (outcome == SendOutcome.Retry)
            {
                LogGaveUp(logger, worker, files.Count, MaxTries);
            }
        }
        finally
        {
            lock (_gate)
            {
                _sending.Remove(worker);
            }

            done.TrySetResult();
        }
    }

    private async Task<SendOutcome> TrySendAsync(Uri address, List<WorkerFile> files, CancellationToken cancellationToken)
    {
        if (registry.Find(address.ToString()) is not { } worker)
        {
            return SendOutcome.Retry;
        }

        if (TokenFor(worker.Endpoint) is not { } token)
        {
            return SendOutcome.Done;
        }

        var client = clients.CreateClient(HealthProber.HttpClientName);
        var deleted = 0;
        foreach (var chunk in files.Chunk(MaxFilesPerRequest))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, WorkerCleanup.Route.TrimStart('/')))
            {
                Content = JsonContent.Create(new CleanupRequest([.. chunk.Select(f => new CleanupFile(f.Type, f.Subfolder, f.Filename))])),
            };
            request.Headers.Add(WorkerCleanup.TokenHeader, token);
            try
            {
                using var response = await client.SendAsync(request, timeout.Token);
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    // Not ours to fix by retrying: the worker lacks the route, or its token differs.
                    LogRefused(logger, worker.Name, (int)response.StatusCode);
                    return SendOutcome.Done;
                }

                if (!response.IsSuccessStatusCode)
                {
                    LogFailed(logger, worker.Name, $"HTTP {(int)response.StatusCode}");
                    return SendOutcome.Retry;
                }

                var answer = await response.Content.ReadFromJsonAsync<CleanupResponse>(cancellationToken);
                deleted += answer?.Deleted?.Count ?? 0;
                foreach (var refused in answer?.Refused ?? [])
                {
                    LogFileRefused(logger, worker.Name, refused.Filename, refused.Reason);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or System.Text.Json.JsonException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                LogFailed(logger, worker.Name, ex.Message);
                return SendOutcome.Retry;
            }
        }

        LogDeleted(logger, worker.Name, deleted, files.Count);
        return SendOutcome.Done;
    }

    /// <summary>Whether the worker at this address is cleaned (false for one the registry does not know).</summary>
    private bool Cleans(Uri? address) =>
        address is not null && registry.Find(address.ToString()) is { } worker && TokenFor(worker.Endpoint) is not null;

    private static Uri? WorkerOf(RunRecord run) =>
        run.Worker is { } address && Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri : null;

    /// <summary>The input files an attempt uploads: cache files by their content-hash name, at the top of the worker's input folder.</summary>
    private static List<WorkerFile> InputFilesOf(RunRecord run) =>
        [.. run.Inputs.Where(i => i.Kind != InputKind.Model && i.FileName is not null).Select(i => new WorkerFile("input", "", i.FileName!)).Distinct()];

    [LoggerMessage(EventId = EventIds.WorkerDiskCleanerDeleted, Level = LogLevel.Debug, Message = "Deleted {Deleted} of {Asked} files on {Worker}")]
    private static partial void LogDeleted(ILogger logger, string worker, int deleted, int asked);

    [LoggerMessage(EventId = EventIds.WorkerDiskCleanerFailed, Level = LogLevel.Warning, Message = "Cleaning files on {Worker} failed ({Reason}); will retry")]
    private static partial void LogFailed(ILogger logger, string worker, string reason);

    [LoggerMessage(EventId = EventIds.WorkerDiskCleanerRefused, Level = LogLevel.Warning, Message = "{Worker} refused the cleanup request (HTTP {Status}): does it run the cleanup route with the right token?")]
    private static partial void LogRefused(ILogger logger, string worker, int status);

    [LoggerMessage(EventId = EventIds.WorkerDiskCleanerFileRefused, Level = LogLevel.Warning, Message = "{Worker} refused to delete {File}: {Reason}")]
    private static partial void LogFileRefused(ILogger logger, string worker, string? file, string? reason);

    [LoggerMessage(EventId = EventIds.WorkerDiskCleanerGaveUp, Level = LogLevel.Warning, Message = "Gave up deleting {Count} files on {Worker} after {Tries} tries")]
    private static partial void LogGaveUp(ILogger logger, Uri worker, int count, int tries);

    [LoggerMessage(EventId = EventIds.WorkerDiskCleanerRecovered, Level = LogLevel.Information, Message = "{Count} worker file deletions scheduled again after the restart")]
    private static partial void LogRecovered(ILogger logger, int count);

    [LoggerMessage(EventId = EventIds.WorkerDiskCleanerRecoveryFailed, Level = LogLevel.Warning, Message = "Could not work out the worker file deletions due after the restart")]
    private static partial void LogRecoveryFailed(ILogger logger, Exception exception);

    private enum SendOutcome
    {
        Done,
        Retry,
    }

    private sealed record Placement(Uri Worker, IReadOnlyList<WorkerFile> Files);

    private sealed record PendingDeletion(DateTimeOffset Due, int Tries);

    private sealed record CleanupFile(string Type, string Subfolder, string Filename);

    private sealed record CleanupRequest(IReadOnlyList<CleanupFile> Files);

    private sealed record CleanupResponse(IReadOnlyList<CleanupFile>? Deleted, IReadOnlyList<RefusedFile>? Refused);

    private sealed record RefusedFile(string? Filename, string? Reason);
}
