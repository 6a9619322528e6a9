using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Nodes;

/// <summary>The live set of workers, kept in step with the <see cref="INodeSource"/>.</summary>
internal sealed partial class WorkerRegistry : IDisposable
{
    private readonly INodeSource _source;
    private readonly ILogger<WorkerRegistry> _logger;
    private readonly ConcurrentDictionary<Uri, WorkerState> _workers = new();
    private readonly Lock _gate = new();
    private volatile WorkerState[] _snapshot = [];

    public WorkerRegistry(INodeSource source, ILogger<WorkerRegistry> logger)
    {
        _source = source;
        _logger = logger;
        Sync();
        _source.Changed += OnSourceChanged;
    }

    /// <summary>Raised after workers were added or removed.</summary>
    public event EventHandler? Changed;

    /// <summary>The workers in address order; a snapshot rebuilt only when the set changes (read on every scheduling decision).</summary>
    public IReadOnlyList<WorkerState> Workers => _snapshot;

    public WorkerState? Find(string baseAddress) =>
        Uri.TryCreate(baseAddress, UriKind.Absolute, out var uri) && _workers.TryGetValue(uri, out var worker) ? worker : null;

    /// <summary>The worker with this <see cref="NodeIds"/> id, or null.</summary>
    public WorkerState? FindById(string id) =>
        _snapshot.FirstOrDefault(w => string.Equals(NodeIds.Of(w.BaseAddress), id, StringComparison.Ordinal));

    public void Dispose() => _source.Changed -= OnSourceChanged;

    private void OnSourceChanged(object? sender, EventArgs e)
    {
        Sync();
        Changed?.Invoke(this, EventArgs.Empty);
    }

    private void Sync()
    {
        lock (_gate)
        {
            var wanted = _source.Current.ToDictionary(n => n.BaseAddress);
            foreach (var (uri, worker) in _workers)
            {
                if (!wanted.ContainsKey(uri))
                {
                    worker.Removed = true;
                    _workers.TryRemove(uri, out _);
                    LogRemoved(_logger, worker.Name);
                }
            }

            foreach (var (uri, node) in wanted)
            {
                if (!_workers.TryGetValue(uri, out var worker))
                {
                    worker = new WorkerState(node);
                    _workers[uri] = worker;
                    LogAdded(_logger, uri, node.Source);
                }

                // The source's cordon follows the source (a ComfyNode's spec.unschedulable or deletion).
                if (worker.CordonedBySource != node.Cordoned)
                {
                    worker.CordonedBySource = node.Cordoned;
                    LogSourceCordon(_logger, worker.Name, node.Cordoned);
                }
            }

            _snapshot = [.. _workers.Values.OrderBy(w => w.BaseAddress.ToString(), StringComparer.Ordinal)];
        }
    }

    [LoggerMessage(EventId = EventIds.WorkerRegistryAdded, Level = LogLevel.Information, Message = "Worker {Address} added (from {Source})")]
    private static partial void LogAdded(ILogger logger, Uri address, string source);

    [LoggerMessage(EventId = EventIds.WorkerRegistrySourceCordon, Level = LogLevel.Information, Message = "Worker {Worker} cordoned by its source: {Cordoned}")]
    private static partial void LogSourceCordon(ILogger logger, string worker, bool cordoned);

    [LoggerMessage(EventId = EventIds.WorkerRegistryRemoved, Level = LogLevel.Information, Message = "Worker {Worker} removed")]
    private static partial void LogRemoved(ILogger logger, string worker);
}
