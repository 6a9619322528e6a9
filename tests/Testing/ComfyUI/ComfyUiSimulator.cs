using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// A ComfyUI worker without a GPU that behaves like ComfyUI 0.3.64 on the wire (HTTP + WebSocket), per
/// docs/comfyui-protocol.md. Many instances can run in one process on distinct ports or 127.0.0.x hosts.
/// </summary>
public sealed class ComfyUiSimulator : IAsyncDisposable
{
    private readonly SimulatorState _state;
    private readonly SimulatorHttp _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _ownedDirectories;
    private readonly Lock _lifecycle = new();
    private readonly Task _executor;
    private WebApplication? _app;

    /// <summary>
    /// Bound but not listening while dead, so the port stays ours: connections are still refused, but the
    /// kernel does not hand the port to an outgoing connection as its local port, which would make
    /// <see cref="Revive"/> fail with "address already in use".
    /// </summary>
    private Socket? _portReservation;
    private bool _crashed;
    private int _disposed;

    private ComfyUiSimulator(ComfyUiSimulatorOptions options, SimulatorState state, List<string> ownedDirectories)
    {
        Options = options;
        _state = state;
        _http = new SimulatorHttp(state);
        _ownedDirectories = ownedDirectories;
        _executor = Task.Run(() => state.Executor.RunAsync(_stop.Token));
    }

    /// <summary>http://host:port of the running simulator (port stays the same across Die/Revive).</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The knobs; changes apply to the next request or step.</summary>
    public ComfyUiSimulatorOptions Options { get; }

    /// <summary>Times a loader changed the loaded checkpoint/unet (each paid ModelLoadDelay).</summary>
    public int CheckpointLoads => _state.Executor.CheckpointLoads;

    /// <summary>Prompts that finished executing (success, error or interrupt).</summary>
    public int PromptsExecuted => _state.Executor.PromptsExecuted;

    /// <summary>POST /interrupt requests received so far, whether or not they hit the running prompt.</summary>
    public int InterruptRequests => _state.InterruptRequests;

    /// <summary>The <c>extra_data</c> the prompt <paramref name="promptId"/> was posted with, or null when no such prompt was accepted.</summary>
    public JsonObject? ExtraDataReceived(string promptId) => _state.ReceivedExtraData.TryGetValue(promptId, out var extra) ? (JsonObject)extra.DeepClone() : null;

    /// <summary>Requests the stand-in extension's own route (<c>/standin/echo</c>, any method) answered.</summary>
    public int ExtensionRouteRequests => _state.ExtensionRouteRequests;

    /// <summary>Files deleted through ComfyOperator's cleanup route.</summary>
    public int CleanedFiles => _state.CleanedFiles;

    /// <summary>Connected WebSocket client ids (sockets the server would send to).</summary>
    public int ConnectedClients => _state.Hub.Count;

    /// <summary>WebSockets opened so far under <paramref name="clientId"/>, closed ones included.</summary>
    public int ConnectionsOpened(string clientId) => _state.Hub.OpenedFor(clientId);

    public string ModelsDirectory => _state.ModelsDirectory;

    public string InputDirectory => _state.InputDirectory;

    public string OutputDirectory => _state.OutputDirectory;

    public string TempDirectory => _state.TempDirectory;

    /// <summary>True between <see cref="Die"/>/<see cref="Crash"/> and <see cref="Revive"/>.</summary>
    public bool IsDead { get; private set; }

    public static async Task<ComfyUiSimulator> StartAsync(ComfyUiSimulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ComfyUiSimulatorOptions();
        var owned = new List<string>();
        string? root = null;
        string Dir(string? configured, string name)
        {
            if (configured is not null)
            {
                Directory.CreateDirectory(configured);
                return Path.GetFullPath(configured);
            }

            if (root is null)
            {
                root = Path.Combine(Path.GetTempPath(), "comfy-sim-" + Guid.NewGuid().ToString("N")[..12]);
                owned.Add(root);
            }

            var path = Path.Combine(root, name);
            Directory.CreateDirectory(path);
            return path;
        }

        var models = Dir(options.ModelsDirectory, "models");
        if (options.ModelsDirectory is null)
        {
            DefaultModels.Create(models);
        }

        var state = new SimulatorState(options, models, Dir(options.InputDirectory, "input"), Dir(options.OutputDirectory, "output"), Dir(options.TempDirectory, "temp"));
        var simulator = new ComfyUiSimulator(options, state, owned);
        try
        {
            await simulator.StartHostAsync(options.Port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await simulator.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return simulator;
    }

    private async Task StartHostAsync(int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Parse(Options.Host), port);
        });
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(_http.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var actualPort = new Uri(address).Port;
        Options.Port = actualPort;
        BaseAddress = new Uri($"http://{Options.Host}:{actualPort}/");
        _app = app;
    }

    /// <summary>
    /// Wedges the executor: prompts are still accepted and queued, HTTP (including /system_stats) and the
    /// socket keep answering, but the running prompt makes no progress and nothing is dequeued, like a worker
    /// stuck in a CUDA call. Interrupts are not honoured while hung. <see cref="Revive"/> un-hangs.
    /// </summary>
    public void Hang() => _state.Executor.Hang();

    /// <summary>Holds every <c>GET /view</c> (a slow disk or network) until <see cref="ReleaseViews"/>.</summary>
    public void HoldViews() => _state.HeldViews ??= new ViewHold();

    /// <summary>Completes once a <c>GET /view</c> is held (since <see cref="HoldViews"/>), so a test releases one that is surely waiting.</summary>
    public Task ViewHeldAsync() => _state.HeldViews?.Arrived.Task ?? throw new InvalidOperationException("Views are not held.");

    /// <summary>Answers the held <c>GET /view</c>s: with the files, or, <paramref name="asGone"/>, with 404 (the files are gone).</summary>
    public void ReleaseViews(bool asGone = false)
    {
        var held = _state.HeldViews;
        _state.HeldViews = null;
        held?.Released.TrySetResult(asGone);
    }

    /// <summary>
    /// Network death: closes the listener and drops every socket; connections are refused until
    /// <see cref="Revive"/>. The process state survives: the running prompt finishes, its events are lost,
    /// and its history entry is there after reviving.
    /// </summary>
    public void Die() => StopHost(crash: false);

    /// <summary>
    /// Like <see cref="Die"/>, but the process dies too: the running prompt stops and never finishes (no
    /// history entry, no further files), and <see cref="Revive"/> starts a fresh process: queue, history,
    /// counter, caches and temp files are gone.
    /// </summary>
    public void Crash()
    {
        Hang();
        _state.Executor.Kill();
        StopHost(crash: true);
    }

    private void StopHost(bool crash)
    {
        WebApplication? app;
        lock (_lifecycle)
        {
            app = _app;
            _app = null;
            IsDead = true;
            _crashed |= crash;
        }

        _state.Hub.AbortAll();
        if (app is not null)
        {
            // Stopping with an already-cancelled token aborts open connections at once.
            using var now = new CancellationTokenSource();
            now.Cancel();
            try
            {
                app.StopAsync(now.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }

            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            ReservePort();
        }
    }

    /// <summary>
    /// Holds the port while dead. The stopped listener's socket is closed by the thread that completes its aborted
    /// accept, which on a loaded machine can come a moment after the stop returns: the bind is tried until that
    /// socket is gone. Best effort after 5 s: dead then behaves as before and Revive may race.
    /// </summary>
    private void ReservePort()
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(Options.Host), Options.Port);
        Socket? socket = null;
        try
        {
            SpinWait.SpinUntil(() => (socket = TryBind(endpoint)) is not null, TimeSpan.FromSeconds(5));
        }
        catch (SocketException)
        {
            return;
        }

        if (socket is null)
        {
            return;
        }

        lock (_lifecycle)
        {
            if (_portReservation is null && _app is null && Volatile.Read(ref _disposed) == 0)
            {
                _portReservation = socket;
                return;
            }
        }

        socket.Dispose();
    }

    /// <summary>A reservation bound on <paramref name="endpoint"/>; null while another socket holds the port, throws on any other failure.</summary>
    private static Socket? TryBind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            return socket;
        }
        catch (Exception ex)
        {
            socket.Dispose();
            if (ex is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return null;
            }

            throw;
        }
    }

    private void ReleasePort()
    {
        Socket? socket;
        lock (_lifecycle)
        {
            socket = _portReservation;
            _portReservation = null;
        }

        socket?.Dispose();
    }

    /// <summary>Listens again on the same host and port; also ends <see cref="Hang"/>.</summary>
    public void Revive()
    {
        bool crashed;
        lock (_lifecycle)
        {
            crashed = _crashed;
            _crashed = false;
        }

        if (crashed)
        {
            _state.Queue.Reset();
            _state.Executor.Reset();
            foreach (var file in Directory.EnumerateFiles(_state.TempDirectory, "*", SearchOption.AllDirectories))
            {
                File.Delete(file);
            }
        }

        if (_app is null)
        {
            ReleasePort();
            StartHostAsync(Options.Port, CancellationToken.None).GetAwaiter().GetResult();
        }

        IsDead = false;
        _state.Executor.Unhang();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        ReleasePort();
        _state.Executor.Unhang();
        _state.Hub.AbortAll();
        var app = _app;
        _app = null;
        if (app is not null)
        {
            using var now = new CancellationTokenSource();
            await now.CancelAsync().ConfigureAwait(false);
            try
            {
                await app.StopAsync(now.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await app.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _executor.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        _state.Executor.Dispose();
        foreach (var directory in _ownedDirectories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
