using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// A ComfyUI script in Python (Debian's <c>python3-websocket</c>, written like ComfyUI's
/// websockets_api_example.py) against the router on a real port, with two simulated workers.
/// </summary>
public sealed class PythonClientTests
{
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task WebSocketsApiExample_AgainstTheRouter_GetsItsImages()
    {
        await using var first = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions());
        await using var second = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions());
        var port = FreePort();
        await using var router = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:Nodes:0"] = $"{first.BaseAddress},{second.BaseAddress}",
            ["Router:Host"] = "127.0.0.1",
            ["Router:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        router.UseKestrel();
        router.StartServer();
        using var client = router.CreateAuthorizedClient();
        client.BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        await Wait.UntilAsync(
            async () => (await client.GetStringAsync("v1/nodes")).Split("\"eligible\":true").Length == 3,
            TimeSpan.FromSeconds(30),
            "two eligible workers");
        var graphFile = Path.Combine(router.DataDirectory, "prompt.json");
        Directory.CreateDirectory(router.DataDirectory);
        await File.WriteAllTextAsync(graphFile, Graphs.Sd15("from python", 2).ToJsonString());

        var (exitCode, output, error) = await RunAsync(
            Path.Combine(AppContext.BaseDirectory, "ComfyApi", "websockets_api_client.py"), $"127.0.0.1:{port}", RouterFactory.ApiKey, graphFile);

        Assert.True(exitCode == 0, $"python exited {exitCode}: {error}");
        var summary = JsonNode.Parse(output)!;
        var promptId = summary["prompt_id"]!.GetValue<string>();
        Assert.Equal(promptId, summary["answered_prompt_id"]!.GetValue<string>());
        Assert.Equal([promptId], summary["prompt_ids_seen"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(1, summary["images"]!.GetValue<int>());
        Assert.True(summary["png"]!.GetValue<bool>());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
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
}
