using System.Collections.Concurrent;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// One <see cref="ComfySession"/> (one WebSocket, per-prompt routing, history fallback) per known
/// worker, opened and closed as the registry changes. Each connection gets a fresh client id
/// (protocol doc §5.1 reconnect pitfall); prompts posted under an earlier id, e.g. by the previous
/// router process, are followed through /history with <see cref="ComfySession.Follow"/>.
/// </summary>
internal sealed class WorkerConnections : IAsyncDisposable
{
    private readonly WorkerRegistry _registry;
    private readonly IHttpClientFactory _httpClients;
    private readonly RouterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<Uri, ComfySession> _sessions = new();
    private readonly Lock _gate = new();

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

    public void Start()
    {
        _registry.Changed += (_, _) => Sync();
        Sync();
    }

    public ComfySession? Get(WorkerState worker) => _sessions.TryGetValue(worker.BaseAddress, out var session) ? session : null;

    public bool IsConnected(WorkerState worker) => Get(worker)?.State == ComfySessionState.Connected;

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions.Values)
        {
            await DisposeSessionAsync(session);
        }

        _sessions.Clear();
    }

    private void Sync()
    {
        var removed = new List<ComfySession>();
        lock (_gate)
        {
            var wanted = _registry.Workers.Select(w => w.BaseAddress).ToHashSet();
            foreach (var (uri, session) in _sessions)
            {
                if (!wanted.Contains(uri) && _sessions.TryRemove(uri, out _))
                {
                    removed.Add(session);
                }
            }

            foreach (var uri in wanted)
            {
                if (!_sessions.ContainsKey(uri))
                {
                    var session = Open(uri);
                    _sessions[uri] = session;
                    session.Start();
                }
            }
        }

        foreach (var session in removed)
        {
            _ = DisposeSessionAsync(session).AsTask();
        }
    }

    private ComfySession Open(Uri uri)
    {
        var client = new ComfyClient(
            _httpClients.CreateClient(HealthProber.HttpClientName),
            uri,
            new ComfyClientOptions { RequestTimeout = _options.WorkerRequestTimeout, LongRequestTimeout = _options.WorkerRequestTimeout * 4 },
            _time);
        var session = new ComfySession(
            client,
            new ComfySessionOptions
            {
                ConnectTimeout = _options.WorkerRequestTimeout,
                ReconnectInitialDelay = TimeSpan.FromMilliseconds(100),
                ReconnectMaxDelay = TimeSpan.FromSeconds(5),
                SupportsPreviewMetadata = true,
            },
            _time,
            _loggers.CreateLogger<ComfySession>());
        session.StateChanged += (_, change) =>
        {
            if (change.Current == ComfySessionState.Connected)
            {
                Connected?.Invoke(this, uri);
            }
            else if (_registry.Find(uri.ToString()) is { } worker)
            {
                // Not listening: the worker's queue is unknown until the socket is back (it then sends its status first).
                worker.QueueRemaining = null;
            }
        };

        // The worker's queue as it broadcasts it (running + pending, every client's prompts): /v1/nodes and the Busy phase.
        _ = session.Listen(e =>
        {
            if (e is ComfyStatusEvent { QueueRemaining: { } remaining } && _registry.Find(uri.ToString()) is { } worker)
            {
                worker.QueueRemaining = remaining;
            }
        });
        return session;
    }

    private static async ValueTask DisposeSessionAsync(ComfySession session)
    {
        await session.DisposeAsync();
        session.Client.Dispose();
    }
}
