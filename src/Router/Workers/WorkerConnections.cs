using System.Collections.Concurrent;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workers;

/// <summary>One <see cref="IComfyWorker"/> (one WebSocket) per known worker, opened and closed as the registry changes.</summary>
internal sealed class WorkerConnections : IAsyncDisposable
{
    private readonly WorkerRegistry _registry;
    private readonly IHttpClientFactory _httpClients;
    private readonly RouterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<Uri, IComfyWorker> _connections = new();
    private readonly Lock _gate = new();
    private string? _clientId;

    public WorkerConnections(WorkerRegistry registry, IHttpClientFactory httpClients, IOptions<RouterOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _registry = registry;
        _httpClients = httpClients;
        _options = options.Value;
        _time = time;
        _loggers = loggers;
    }

    /// <summary>Raised when any worker's socket (re)connects: a chance to dispatch.</summary>
    public event EventHandler<Uri>? Connected;

    public string ClientId => _clientId ??= RouterClientId.LoadOrCreate(_options);

    public void Start()
    {
        _registry.Changed += (_, _) => Sync();
        Sync();
    }

    public IComfyWorker? Get(WorkerState worker) => _connections.TryGetValue(worker.BaseAddress, out var connection) ? connection : null;

    public bool IsConnected(WorkerState worker) => Get(worker)?.IsConnected == true;

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections.Values)
        {
            await connection.DisposeAsync();
        }

        _connections.Clear();
    }

    private void Sync()
    {
        var removed = new List<IComfyWorker>();
        lock (_gate)
        {
            var wanted = _registry.Workers.ToDictionary(w => w.BaseAddress);
            foreach (var (uri, connection) in _connections)
            {
                if (!wanted.ContainsKey(uri) && _connections.TryRemove(uri, out _))
                {
                    removed.Add(connection);
                }
            }

            foreach (var uri in wanted.Keys)
            {
                if (_connections.ContainsKey(uri))
                {
                    continue;
                }

                var connection = new ComfyWorkerConnection(uri, ClientId, _httpClients.CreateClient(Nodes.HealthProber.HttpClientName),
                    _options.WorkerRequestTimeout, _time, _loggers.CreateLogger<ComfyWorkerConnection>());
                connection.Connected += (_, _) => Connected?.Invoke(this, uri);
                _connections[uri] = connection;
                connection.Start();
            }
        }

        foreach (var connection in removed)
        {
            _ = connection.DisposeAsync().AsTask();
        }
    }
}
