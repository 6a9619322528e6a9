using System.Text.Json;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// Adds, cordons and removes workers through the API. Added workers are written to the node store and
/// join the <see cref="ApiNodeSource"/>; at start the stored ones are loaded again with their cordon
/// and drain flags. A drained worker is removed once none of our runs is on it, nor finishing on it (checked every
/// <see cref="DrainCheckInterval"/>). Cordoning a worker from the configuration or the servers file
/// lasts until the router restarts: those sources have no place to keep it.
/// </summary>
internal sealed partial class NodeAdministration(
    ApiNodeSource source,
    INodeStore store,
    WorkerRegistry registry,
    IHttpClientFactory httpClients,
    IOptions<RouterOptions> options,
    TimeProvider time,
    ILogger<NodeAdministration> logger) : IHostedService, IDisposable
{
    public static readonly TimeSpan DrainCheckInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _drainGate = new(1, 1);
    private ITimer? _drainTimer;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var nodes = await store.ListAsync(cancellationToken);
        source.Replace(nodes);
        foreach (var node in nodes)
        {
            if (registry.Find(node.Url.ToString()) is { } worker)
            {
                worker.Cordoned = node.Cordoned || node.Draining;
                worker.Draining = node.Draining;
            }
        }

        LogLoaded(logger, nodes.Count);
        _drainTimer = time.CreateTimer(_ => _ = FinishDrainsAsync(CancellationToken.None), null, DrainCheckInterval, DrainCheckInterval);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _drainTimer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _drainTimer?.Dispose();
        _drainGate.Dispose();
    }

    /// <summary>
    /// Asks <c>GET /system_stats</c> as the health probe does: null when the address answers as a
    /// ComfyUI, else why not.
    /// </summary>
    public async Task<string?> ProbeAsync(Uri url, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.ProbeTimeout);
        try
        {
            var client = httpClients.CreateClient(HealthProber.HttpClientName);
            using var response = await client.GetAsync(new Uri(url, "system_stats"), timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return $"{url}system_stats answered HTTP {(int)response.StatusCode}; it is not a ComfyUI.";
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("system", out var system) && system.ValueKind == JsonValueKind.Object
                ? null
                : $"{url}system_stats has no 'system' object; it is not a ComfyUI.";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{url} did not answer within {options.Value.ProbeTimeout.TotalSeconds:0.#}s (Router:ProbeTimeout).";
        }
        catch (HttpRequestException ex)
        {
            return $"{url} could not be reached: {ex.Message}";
        }
        catch (JsonException)
        {
            return $"{url}system_stats did not answer JSON; it is not a ComfyUI.";
        }
    }

    /// <summary>Stores the node and adds it to the workers; false when the store already holds it.</summary>
    public async Task<bool> AddAsync(StoredNode node, CancellationToken cancellationToken)
    {
        if (!await store.AddAsync(node, cancellationToken))
        {
            return false;
        }

        source.Add(node);
        LogAdded(logger, node.Url);
        return true;
    }

    /// <summary>Cordons or uncordons; kept in the store for API-added workers.</summary>
    public async Task SetCordonedAsync(WorkerState worker, bool cordoned, CancellationToken cancellationToken)
    {
        if (worker.Endpoint.Source == NodeSources.Api)
        {
            await store.UpdateAsync(Stored(worker, cordoned, draining: false), cancellationToken);
        }

        worker.Cordoned = cordoned;
        LogCordoned(logger, worker.Name, cordoned);
    }

    /// <summary>Removes an API-added worker now (idle or <paramref name="force"/>) and returns true, or starts draining it and returns false.</summary>
    public async Task<bool> RemoveAsync(WorkerState worker, bool force, CancellationToken cancellationToken)
    {
        if (force || worker.IsIdle)
        {
            await store.RemoveAsync(worker.BaseAddress, cancellationToken);
            worker.Cordoned = true;
            source.Remove(worker.BaseAddress);
            LogRemoved(logger, worker.Name);
            return true;
        }

        await store.UpdateAsync(Stored(worker, cordoned: true, draining: true), cancellationToken);
        worker.Cordoned = true;
        worker.Draining = true;
        LogDraining(logger, worker.Name, worker.Assigned + worker.Finishing);
        return false;
    }

    /// <summary>Removes the draining workers that have no run left.</summary>
    internal async Task FinishDrainsAsync(CancellationToken cancellationToken)
    {
        if (!await _drainGate.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            foreach (var worker in registry.Workers.Where(w => w.Draining && w.IsIdle && w.Endpoint.Source == NodeSources.Api))
            {
                await RemoveAsync(worker, force: true, cancellationToken);
            }
        }
        catch (StorageException ex)
        {
            // The next check tries again.
            LogDrainFailed(logger, ex.Message);
        }
        finally
        {
            _drainGate.Release();
        }
    }

    private StoredNode Stored(WorkerState worker, bool cordoned, bool draining) =>
        new(worker.BaseAddress, worker.Endpoint.Labels, worker.Endpoint.MaxQueue, cordoned, draining, time.GetUtcNow());

    [LoggerMessage(EventId = EventIds.NodeAdministrationLoaded, Level = LogLevel.Information, Message = "{Count} workers added through the API loaded from the router database")]
    private static partial void LogLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = EventIds.NodeAdministrationAdded, Level = LogLevel.Information, Message = "Worker {Address} added through the API")]
    private static partial void LogAdded(ILogger logger, Uri address);

    [LoggerMessage(EventId = EventIds.NodeAdministrationRemoved, Level = LogLevel.Information, Message = "Worker {Worker} removed through the API")]
    private static partial void LogRemoved(ILogger logger, string worker);

    [LoggerMessage(EventId = EventIds.NodeAdministrationDraining, Level = LogLevel.Information, Message = "Worker {Worker} is draining: removed once its {Runs} runs finish")]
    private static partial void LogDraining(ILogger logger, string worker, int runs);

    [LoggerMessage(EventId = EventIds.NodeAdministrationCordoned, Level = LogLevel.Information, Message = "Worker {Worker} cordoned: {Cordoned}")]
    private static partial void LogCordoned(ILogger logger, string worker, bool cordoned);

    [LoggerMessage(EventId = EventIds.NodeAdministrationDrainFailed, Level = LogLevel.Warning, Message = "Finishing a drain failed, trying again: {Error}")]
    private static partial void LogDrainFailed(ILogger logger, string error);
}
