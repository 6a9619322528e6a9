using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>
/// An in-process Kubernetes API server emulator on Kestrel (http://127.0.0.1:port) that kubectl and
/// our client accept. Behaviour follows docs/kubernetes-api.md; see docs/development.md
/// for what it leaves out (CEL, full strategic merge and server-side apply ownership, admission).
/// </summary>
public sealed class KubeApiEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ClusterState _state;
    private readonly RequestHandler _handler;

    private KubeApiEmulator(WebApplication app, ClusterState state, RequestHandler handler, KubeApiFaults faults, Uri baseAddress)
    {
        _app = app;
        _state = state;
        _handler = handler;
        Faults = faults;
        BaseAddress = baseAddress;
    }

    /// <summary>http://127.0.0.1:&lt;port&gt;</summary>
    public Uri BaseAddress { get; }

    public KubeApiFaults Faults { get; }

    /// <summary>Successful mutating requests served so far (create, update, patch, delete).</summary>
    public long WriteCount => _handler.WriteCount;

    /// <summary>The current global resourceVersion.</summary>
    public long ResourceVersion => _state.CurrentResourceVersion;

    /// <summary>Watches currently open.</summary>
    public int OpenWatchCount => _state.OpenWatchCount;

    public static async Task<KubeApiEmulator> StartAsync(KubeApiEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KubeApiEmulatorOptions();
        var state = new ClusterState(options.TimeProvider, options.WatchHistoryCapacity, options.WatchBufferCapacity);
        var faults = new KubeApiFaults(state.DropWatches);
        var handler = new RequestHandler(state, options, faults);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, NullHostLifetime>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            k.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
        });
        var app = builder.Build();
        app.Run(handler.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        return new KubeApiEmulator(app, state, handler, faults, new Uri($"http://127.0.0.1:{port}"));
    }

    /// <summary>The token a kubeconfig written without one carries; the emulator ignores it unless a token is required.</summary>
    public const string PlaceholderToken = "emulator";

    /// <summary>Writes a kubeconfig (context "emulator", namespace default) for kubectl and the official client.</summary>
    public string WriteKubeconfig(string path, string? token = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        // The official client refuses a user without credentials ("does not have appropriate auth
        // credentials"), so an emulator that asks for none still gets a placeholder token. kubectl
        // sends no bearer token to a plain-http server, so it is unaffected either way.
        var user = $"  user:\n    token: {token ?? PlaceholderToken}";
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: emulator
              cluster:
                server: {BaseAddress.ToString().TrimEnd('/')}
            users:
            - name: emulator
            {user}
            contexts:
            - name: emulator
              context:
                cluster: emulator
                user: emulator
                namespace: default
            current-context: emulator

            """);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        _state.DropWatches();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
