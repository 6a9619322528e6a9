using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 16: a ComfyUI client's submit → <c>executing</c> with <c>node: null</c>, and submit → the image
/// bytes in hand (the client then reads <c>/history/{id}</c> and <c>/view</c>s each file: what a user
/// waits for), through the router (the shipped binary in its own process, one simulated worker, measured
/// once its JIT is done) against the same client straight to a simulator, and through a TCP relay in its
/// own process (the least any process in between adds on this machine); then 100 clients at once each way.
/// Each path has its own simulator. Prints p50/p99 per path. The simulated sampler step takes
/// <c>stepDelay</c> (0: the router's fixed cost per prompt is all there is to compare).
/// </summary>
internal static class ComfyApiBench
{
    private const string ApiKey = "bench-key-0123456789";

    /// <summary>Prompts per warm-up round (four clients at once), until the router is steady (<see cref="LifecycleBench.WarmUpAsync"/>).</summary>
    private const int WarmUpRound = 400;

    public static async Task RunAsync(int prompts, int concurrentClients, TimeSpan stepDelay)
    {
        var data = Path.Combine(Path.GetTempPath(), "comfy-api-bench", Guid.NewGuid().ToString("N"));
        // Each path its own simulator, alike: a simulator's `status` broadcasts go to every socket it has, so a
        // shared one would slow each path by the others' sockets.
        await using var straightWorker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = stepDelay });
        await using var relayWorker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = stepDelay });
        await using var routerWorker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = stepDelay });
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        using var relay = await RelayProcess.StartAsync(relayWorker.BaseAddress);
        using var router = await BenchRouter.StartAsync(data, routerWorker, binary: null);

        // A second build to compare (COMFY_BENCH_ROUTER_B): its own process and simulator, measured in the same rounds.
        var other = Environment.GetEnvironmentVariable("COMFY_BENCH_ROUTER_B") is { Length: > 0 } b ? b : null;
        await using var routerBWorker = other is null ? null : await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = stepDelay });
        using var routerB = other is null ? null : await BenchRouter.StartAsync(data + "-b", routerBWorker!, other);
        List<(string Name, Uri Address, BenchRouter? Router)> paths =
        [
            ("straight to one simulator", straightWorker.BaseAddress, null),
            ("through a TCP relay", relay.Address, null),
            ("through the router", router.Process.BaseAddress, router),
        ];
        if (routerB is not null)
        {
            paths.Add(("through router B", routerB.Process.BaseAddress, routerB));
        }

        // A router runs for days: measure it once its JIT has finished tiering up what a prompt runs (thousands of
        // prompts after a start), as the lifecycle bench does. The relay and this process warm up meanwhile; each
        // warm-up round takes the next WarmUpRound seeds.
        var seed = 0;
        int NextSeeds()
        {
            seed += WarmUpRound;
            return seed - WarmUpRound;
        }

        foreach (var (name, address, bench) in paths)
        {
            if (bench is null)
            {
                await RunManyAsync(http, address, WarmUpRound, NextSeeds());
                continue;
            }

            await WaitForWorkerAsync(http, address);
            await LifecycleBench.WarmUpAsync($"comfyui: {name}", bench.Process, bench.Stats, () => RunManyAsync(http, address, WarmUpRound, NextSeeds()), WarmUpRound);
        }

        // The paths take turns, one prompt each per round: on a shared machine each meets the same load, so the ratios hold.
        Console.WriteLine($"ComfyUI client, submit -> executing(node: null) | -> image bytes in hand (/history, /view), SD1.5 64x64 1 step of {stepDelay.TotalMilliseconds:0} ms, {prompts} prompts per path, the paths taking turns (the routers warmed up until steady, then 10 prompts each):");
        var clients = new List<ComfyScriptClient>();
        foreach (var (name, address, _) in paths)
        {
            clients.Add(await ComfyScriptClient.ConnectAsync(http, address, "sequential-" + name.Replace(' ', '-')));
        }

        var measured = paths.Select(_ => new List<Latency>()).ToList();
        for (var round = -10; round < prompts; round++)
        {
            // Each round in the other order: no path always runs right after another.
            for (var k = 0; k < clients.Count; k++)
            {
                var p = round % 2 == 0 ? k : clients.Count - 1 - k;
                var latency = await clients[p].RunAsync(seed++);
                if (round >= 0)
                {
                    measured[p].Add(latency);
                }
            }
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        for (var p = 0; p < paths.Count; p++)
        {
            Print(paths[p].Name, measured[p], null);
        }

        // The relay is the floor for any process between a client and its ComfyUI on this machine: it only wakes up to pass bytes on.
        var straight = Percentiles.Of(measured[0].Select(l => l.Done).Order().ToList(), 50);
        for (var p = 1; p < paths.Count; p++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {paths[p].Name} / straight, p50: {Percentiles.Of(measured[p].Select(l => l.Done).Order().ToList(), 50) / straight:F2}x"));
        }

        Console.WriteLine($"{concurrentClients} clients at once, one prompt each (each its own WebSocket and client id):");
        foreach (var (name, address, _) in paths)
        {
            var many = await Task.WhenAll(Enumerable.Range(0, concurrentClients).Select(i => ComfyScriptClient.ConnectAsync(http, address, $"concurrent-{name.Replace(' ', '-')}-{i}")));
            var wall = Stopwatch.StartNew();
            var start = seed;
            seed += concurrentClients;
            var latencies = await Task.WhenAll(many.Select((c, i) => c.RunAsync(start + i)));
            wall.Stop();
            foreach (var client in many)
            {
                await client.DisposeAsync();
            }

            Print(name, [.. latencies], wall.Elapsed);
        }

        foreach (var directory in new[] { data, data + "-b" }.Where(Directory.Exists))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Left for the temp cleaner.
            }
        }
    }

    /// <summary><paramref name="count"/> prompts from four ComfyUI clients at once, with the seeds from <paramref name="firstSeed"/> on.</summary>
    private static async Task RunManyAsync(HttpClient http, Uri address, int count, int firstSeed)
    {
        const int Clients = 4;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async i =>
        {
            await using var client = await ComfyScriptClient.ConnectAsync(http, address, $"warm-up-{i}");
            for (var k = i; k < count; k += Clients)
            {
                await client.RunAsync(firstSeed + k);
            }
        }));
    }

    /// <summary>A router process on the simulator, with its runtime's figures (<see cref="StartupHook"/>) to tell when its JIT is done.</summary>
    private sealed class BenchRouter(RouterProcess process, LifecycleBench.RouterStats stats) : IDisposable
    {
        public RouterProcess Process => process;

        public LifecycleBench.RouterStats Stats => stats;

        public static async Task<BenchRouter> StartAsync(string data, ComfyUiSimulator worker, string? binary)
        {
            Directory.CreateDirectory(data);
            var statsPath = Path.Combine(data, "stats.sock");
            var process = await RouterProcess.StartAsync(
                new Dictionary<string, string>
                {
                    ["Router:DataDirectory"] = data,
                    ["Router:Nodes:0"] = worker.BaseAddress.ToString(),
                    ["Router:ApiKeys:0"] = ApiKey,
                    ["Router:PendingLimit"] = "100000",
                    ["Router:HistoryLimit"] = "100000",
                    ["Router:ProbeInterval"] = "00:00:01",
                },
                new Dictionary<string, string>
                {
                    ["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location,
                    [StartupHook.SocketVariable] = statsPath,
                },
                binary);
            return new BenchRouter(process, await LifecycleBench.RouterStats.ConnectAsync(statsPath));
        }

        public void Dispose()
        {
            stats.Dispose();
            process.Dispose();
        }
    }

    private static void Print(string name, IReadOnlyList<Latency> latencies, TimeSpan? wall)
    {
        var done = latencies.Select(l => l.Done).Order().ToList();
        var bytes = latencies.Select(l => l.Bytes).Order().ToList();
        var text = string.Create(
            CultureInfo.InvariantCulture,
            $"  {name,-26} p50 {Percentiles.Of(done, 50),7:0.0} ms   p99 {Percentiles.Of(done, 99),7:0.0} ms   | bytes in hand p50 {Percentiles.Of(bytes, 50),7:0.0} ms   p99 {Percentiles.Of(bytes, 99),7:0.0} ms");
        Console.WriteLine(wall is { } w ? text + string.Create(CultureInfo.InvariantCulture, $"   all done in {w.TotalMilliseconds:0} ms") : text);
    }

    /// <param name="Done">Milliseconds from the POST to the prompt's <c>executing</c> with <c>node: null</c>.</param>
    /// <param name="Bytes">Milliseconds from the POST to the last byte of its last output file.</param>
    private readonly record struct Latency(double Done, double Bytes);

    private static async Task WaitForWorkerAsync(HttpClient http, Uri router)
    {
        var deadline = Stopwatch.StartNew();
        while (!(await http.GetStringAsync(new Uri(router, "v1/nodes"))).Contains("\"eligible\":true", StringComparison.Ordinal))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("The router's worker did not become eligible within 60 s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A ComfyUI script: its WebSocket under its client id, <c>POST /prompt</c>, then read frames until its prompt's <c>executing</c> with <c>node: null</c>.</summary>
    private sealed class ComfyScriptClient(HttpClient http, Uri address, string clientId, ClientWebSocket socket) : IAsyncDisposable
    {
        private readonly byte[] _buffer = new byte[64 * 1024];

        public static async Task<ComfyScriptClient> ConnectAsync(HttpClient http, Uri address, string clientId)
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + ApiKey);
            await socket.ConnectAsync(new Uri($"ws://{address.Authority}/ws?clientId={clientId}"), CancellationToken.None);
            return new ComfyScriptClient(http, address, clientId, socket);
        }

        /// <summary>Times from the POST to the prompt's end message, and to its files read through /history and /view.</summary>
        public async Task<Latency> RunAsync(int seed)
        {
            var body = new JsonObject { ["prompt"] = BenchGraph.Sd15(seed), ["client_id"] = clientId };
            var watch = Stopwatch.StartNew();
            using var response = await http.PostAsync(new Uri(address, "prompt"), new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            var promptId = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["prompt_id"]!.GetValue<string>();
            using var message = new MemoryStream();
            while (true)
            {
                var result = await socket.ReceiveAsync(_buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"{address} closed the WebSocket of {clientId}.");
                }

                message.Write(_buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Text
                    && JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length)) is JsonObject { } frame
                    && frame["type"]?.GetValue<string>() == "executing"
                    && frame["data"] is JsonObject { } data && data["node"] is null && data["prompt_id"]?.GetValue<string>() == promptId)
                {
                    var done = watch.Elapsed.TotalMilliseconds;
                    await ReadOutputsAsync(promptId);
                    return new Latency(done, watch.Elapsed.TotalMilliseconds);
                }

                message.SetLength(0);
            }
        }

        /// <summary>What a script does next: the prompt's files from its history entry, each read to the end.</summary>
        private async Task ReadOutputsAsync(string promptId)
        {
            var history = JsonNode.Parse(await http.GetStringAsync(new Uri(address, "history/" + promptId)))?[promptId]?["outputs"] as JsonObject
                ?? throw new InvalidOperationException($"{address} has no history entry for {promptId} at its end message.");
            var files = 0;
            foreach (var (_, output) in history)
            {
                foreach (var image in output?["images"] as JsonArray ?? [])
                {
                    var query = $"view?filename={Uri.EscapeDataString(image!["filename"]!.GetValue<string>())}&subfolder={Uri.EscapeDataString(image["subfolder"]?.GetValue<string>() ?? "")}&type={image["type"]?.GetValue<string>() ?? "output"}";
                    var content = await http.GetByteArrayAsync(new Uri(address, query));
                    files += content.Length > 0 ? 1 : throw new InvalidOperationException($"{address} served an empty {query}.");
                }
            }

            if (files == 0)
            {
                throw new InvalidOperationException($"The history entry of {promptId} on {address} names no image.");
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }

            socket.Dispose();
        }
    }
}
