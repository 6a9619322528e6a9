using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// The router on a real port (Kestrel on 127.0.0.1) with two simulated workers, for ComfyUI client
/// programs (Python, Node) that the tests run as processes against it, the way users point theirs at
/// a ComfyUI server.
/// </summary>
internal sealed class ClientProgramRouter : IAsyncDisposable
{
    private readonly ComfyUiSimulator[] _workers;
    private readonly RouterFactory _router;

    private ClientProgramRouter(ComfyUiSimulator[] workers, RouterFactory router, int port)
    {
        _workers = workers;
        _router = router;
        Authority = $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>host:port of the router.</summary>
    public string Authority { get; }

    public static async Task<ClientProgramRouter> StartAsync()
    {
        ComfyUiSimulator[] workers = [await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions()), await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions())];
        var port = FreePort();
        var router = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:Nodes:0"] = string.Join(',', workers.Select(w => w.BaseAddress)),
            ["Router:Host"] = "127.0.0.1",
            ["Router:Port"] = port.ToString(CultureInfo.InvariantCulture),
        });
        router.UseKestrel();
        router.StartServer();
        var started = new ClientProgramRouter(workers, router, port);
        using var client = started.CreateAuthorizedClient();
        await Wait.UntilAsync(
            async () => (await client.GetStringAsync("v1/nodes")).Split("\"eligible\":true").Length == workers.Length + 1,
            TimeSpan.FromSeconds(30),
            "two eligible workers");
        return started;
    }

    /// <summary>A client with the router's API key, addressed to its real port.</summary>
    public HttpClient CreateAuthorizedClient()
    {
        var client = _router.CreateAuthorizedClient();
        client.BaseAddress = new Uri($"http://{Authority}/");
        return client;
    }

    /// <summary>Writes an API-format graph to a file for the client program to read.</summary>
    public async Task<string> WriteGraphAsync(JsonObject graph)
    {
        Directory.CreateDirectory(_router.DataDirectory);
        var file = Path.Combine(_router.DataDirectory, "prompt.json");
        await File.WriteAllTextAsync(file, graph.ToJsonString());
        return file;
    }

    /// <summary>Runs a client program to its end (at most two minutes) and returns its exit code, standard output and error.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var error = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }

    public async ValueTask DisposeAsync()
    {
        await _router.DisposeAsync();
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
