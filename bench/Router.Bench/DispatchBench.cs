using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Dispatch latency on an idle simulated worker: from POST /v1/runs sent to the router's POST /prompt
/// answered by the worker, against a client that posts /prompt to the worker itself. One run at a
/// time, each waited for, so the worker is idle at every submission.
/// </summary>
internal static class DispatchBench
{
    public static async Task RunAsync(int runs)
    {
        await using var worker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions());
        var direct = await DirectAsync(worker, runs);
        var routed = await RoutedAsync(worker, runs);
        Report("direct POST /prompt", direct.Post);
        Report("router submit → /prompt posted", routed.Post);
        Report("direct POST → done (executing null)", direct.EndToEnd);
        Report("router submit → succeeded event", routed.EndToEnd);
        Console.WriteLine($"dispatch: ratio router/direct p50 {Percentiles.Of(routed.Post, 50) / Percentiles.Of(direct.Post, 50):0.0}x, p99 {Percentiles.Of(routed.Post, 99) / Percentiles.Of(direct.Post, 99):0.0}x");
    }

    private static void Report(string what, List<double> samples) =>
        Console.WriteLine($"dispatch: {what}: p50 {Percentiles.Of(samples, 50):0.00} ms, p99 {Percentiles.Of(samples, 99):0.00} ms ({samples.Count} runs)");

    private static async Task<(List<double> Post, List<double> EndToEnd)> DirectAsync(ComfyUiSimulator worker, int runs)
    {
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };
        using var socket = new ClientWebSocket();
        var clientId = "bench-direct";
        await socket.ConnectAsync(new Uri($"ws://{worker.BaseAddress.Authority}/ws?clientId={clientId}"), CancellationToken.None);
        var post = new List<double>();
        var total = new List<double>();
        var buffer = new byte[1 << 16];
        for (var i = -10; i < runs; i++)
        {
            var promptId = Guid.NewGuid().ToString("D");
            var body = new JsonObject { ["prompt"] = BenchGraph.Sd15(100_000 + i), ["client_id"] = clientId, ["prompt_id"] = promptId };
            var start = Stopwatch.GetTimestamp();
            using (var response = await http.PostAsJsonAsync("prompt", body))
            {
                response.EnsureSuccessStatusCode();
            }

            var posted = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType != WebSocketMessageType.Text)
                {
                    continue;
                }

                var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                var finished = text.Contains("\"node\": null", StringComparison.Ordinal) || text.Contains("\"node\":null", StringComparison.Ordinal);
                if (finished && text.Contains("\"executing\"", StringComparison.Ordinal) && text.Contains(promptId, StringComparison.Ordinal))
                {
                    break;
                }
            }

            if (i >= 0)
            {
                post.Add(posted);
                total.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }

        post.Sort();
        total.Sort();
        return (post, total);
    }

    private static async Task<(List<double> Post, List<double> EndToEnd)> RoutedAsync(ComfyUiSimulator worker, int runs)
    {
        var data = Directory.CreateTempSubdirectory("router-bench-").FullName;
        var posted = new ConcurrentQueue<long>();
        using var host = new RouterHost(
            new Dictionary<string, string?>
            {
                ["Router:DataDirectory"] = data,
                ["Router:Nodes:0"] = worker.BaseAddress.ToString(),
                ["Router:HistoryLimit"] = "100000",
                ["Router:ProbeInterval"] = "00:00:01",
            },
            services => services.AddHttpClient("comfy-worker").AddHttpMessageHandler(() => new PromptTimingHandler(posted)));
        host.UseKestrel(0);
        host.StartServer();
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterHost.ApiKey);
        var deadline = Stopwatch.StartNew();
        while (!(await client.GetFromJsonAsync<JsonElement>(new Uri("/v1/nodes", UriKind.Relative))).EnumerateArray().Any(n => n.GetProperty("eligible").GetBoolean()))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("The simulated worker never became eligible.");
            }

            await Task.Yield();
        }

        var post = new List<double>();
        var total = new List<double>();
        for (var i = -10; i < runs; i++)
        {
            posted.Clear();
            var start = Stopwatch.GetTimestamp();
            using var response = await client.PostAsJsonAsync(new Uri("/v1/runs", UriKind.Relative), new JsonObject { ["workflow"] = BenchGraph.Sd15(i) });
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            using var events = await client.GetAsync(new Uri($"/v1/runs/{id}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("event: succeeded", StringComparison.Ordinal) || line.StartsWith("event: failed", StringComparison.Ordinal))
                {
                    break;
                }
            }

            var done = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (i >= 0 && posted.TryPeek(out var at))
            {
                post.Add(Stopwatch.GetElapsedTime(start, at).TotalMilliseconds);
                total.Add(done);
            }
        }

        post.Sort();
        total.Sort();
        Directory.Delete(data, recursive: true);
        return (post, total);
    }
}
