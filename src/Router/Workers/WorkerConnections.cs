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
/// (docs/comfyui-protocol.md §5.1 reconnect pitfall). Prompts posted under an earlier id, e.g. by the previous
/// router process, send their events to that id only, so <see cref="Follow"/> opens an extra
/// receive-only session under it while such prompts are followed.
/// </summary>
internal sealed class WorkerConnections : IWorkerSessions, IAsyncDisposable
{
    private readonly WorkerRegistry _registry;
    private readonly IHttpClientFactory _httpClients;
    private readonly RouterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<Uri, ComfySession> _sessions = new();
    private readonly Dictionary<(Uri Worker, string ClientId), Follower> _followers = [];
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

    /// <summary>Raised when a worker broadcasts a change of its queue (a prompt was queued, started or finished, by anyone).</summary>
    public event EventHandler<Uri>? QueueChanged;

    public void Start()
    {
        _registry.Changed += (_, _) => Sync();
        Sync();
    }

    public ComfySession? Get(WorkerState worker) => Get(worker.BaseAddress);

    public ComfySession? Get(Uri worker) => _sessions.TryGetValue(worker, out var session) ? session : null;

    /// <summary>
    /// A session on <paramref name="worker"/> that listens under <paramref name="clientId"/>, the id an
    /// earlier process posted prompts with, shared by every prompt followed under it. ComfyUI routes a
    /// prompt's events to whichever socket is registered under its client id now, so these events come
    /// back; but a socket opened while an older one with the id is still registered can be silently
    /// orphaned when that one is cleaned up (docs/comfyui-protocol.md §5.1), so callers must treat silence on it as
    /// "no news", not as proof of a stall, and take the outcome from /history.
    /// </summary>
    public FollowerLease Follow(WorkerState worker, string clientId)
    {
        var key = (worker.BaseAddress, clientId);
        Follower follower;
        lock (_gate)
        {
            if (!_followers.TryGetValue(key, out follower!))
            {
                follower = new Follower(Open(worker.BaseAddress, () => clientId, notifyConnected: false));
                _followers[key] = follower;
                follower.Session.Start();
            }

            follower.Leases++;
        }

        return new FollowerLease(follower.Session, () => ReleaseAsync(key, follower));
    }

    private async ValueTask ReleaseAsync((Uri Worker, string ClientId) key, Follower follower)
    {
        lock (_gate)
        {
            // Not in the map any more: disposed with the connections already.
            if (--follower.Leases > 0 || !_followers.Remove(key))
            {
                return;
            }
        }

        await DisposeSessionAsync(follower.Session);
    }

    public bool IsConnected(WorkerState worker) => Get(worker)?.State == ComfySessionState.Connected;

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions.Values)
        {
            await DisposeSessionAsync(session);
        }

        _sessions.Clear();
        List<Follower> followers;
        lock (_gate)
        {
            followers = [.. _followers.Values];
            _followers.Clear();
        }

        foreach (var follower in followers)
        {
            await DisposeSessionAsync(follower.Session);
        }
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
                    var session = Open(uri, null, notifyConnected: true);
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

    private ComfySession Open(Uri uri, Func<string>? clientIds, bool notifyConnected)
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
                ClientIdFactory = clientIds ?? (static () => Guid.NewGuid().ToString("N")),
            },
            _time,
            _loggers.CreateLogger<ComfySession>());
        if (notifyConnected)
        {
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

            // The worker's queue as it broadcasts it (running + pending, every client's prompts): /v1/nodes, the Busy phase, passive recovery.
            _ = session.Listen(e =>
            {
                if (e is ComfyStatusEvent { QueueRemaining: { } remaining } && _registry.Find(uri.ToString()) is { } worker)
                {
                    worker.QueueRemaining = remaining;
                    QueueChanged?.Invoke(this, uri);
                }
            });
        }

        return session;
    }

    private static async ValueTask DisposeSessionAsync(ComfySession session)
    {
        await session.DisposeAsync();
        session.Client.Dispose();
    }

    private sealed class Follower(ComfySession session)
    {
        public ComfySession Session { get; } = session;

        public int Leases { get; set; }
    }
}
