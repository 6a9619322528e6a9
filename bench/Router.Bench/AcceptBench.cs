using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Router.Bench;

/// <summary>Runs accepted per second: POST /v1/runs of a 1 KB graph until it is stored as queued (no worker, so nothing else happens).</summary>
internal static class AcceptBench
{
    public static async Task RunAsync(int total, int concurrency)
    {
        var data = Directory.CreateTempSubdirectory("router-bench-").FullName;
        using var host = new RouterHost(new Dictionary<string, string?>
        {
            ["Router:DataDirectory"] = data,
            ["Router:PendingLimit"] = "1000000",
            ["Router:HistoryLimit"] = "1000000",
        });
        host.UseKestrel(0);
        host.StartServer();
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterHost.ApiKey);
        var bodies = Enumerable.Range(0, total + 200).Select(i => new JsonObject { ["workflow"] = BenchGraph.Sd15(i) }.ToJsonString()).ToArray();
        Console.WriteLine($"accept: graph body {bodies[0].Length} bytes, {total} runs, {concurrency} concurrent clients, real HTTP on loopback");

        // Warm up JIT, the SQLite connection and the HTTP pool.
        await SubmitAllAsync(client, bodies[total..], concurrency);

        // Calibration: the same clients on GET /healthz show what this machine's HTTP loop costs by itself.
        var baseline = Stopwatch.StartNew();
        await GetAllAsync(client, total, concurrency);
        baseline.Stop();
        Console.WriteLine($"accept: baseline GET /healthz {total / baseline.Elapsed.TotalSeconds:0} requests/s on the same machine");

        // The same bodies with a bad priority: parsed, authenticated and validated, then refused before the store.
        var refusedBodies = bodies[..total].Select(b => b[..^1] + ",\"priority\":\"high\"}").ToArray();
        var refused = Stopwatch.StartNew();
        await SubmitAllAsync(client, refusedBodies, concurrency, HttpStatusCode.BadRequest);
        refused.Stop();
        Console.WriteLine($"accept: baseline POST /v1/runs refused after validation (no store) {total / refused.Elapsed.TotalSeconds:0} requests/s");

        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var failures = await SubmitAllAsync(client, bodies[..total], concurrency);
        clock.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;

        Console.WriteLine($"accept: {total / clock.Elapsed.TotalSeconds:0} runs/s ({clock.Elapsed.TotalMilliseconds:0} ms for {total}, {failures} failures)");
        Console.WriteLine($"accept: CPU {cpu.TotalMilliseconds * 1000 / total:0} µs per run (router and load generator share this process)");
        Directory.Delete(data, recursive: true);
    }

    private static async Task GetAllAsync(HttpClient client, int total, int concurrency)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < total)
            {
                using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
            }
        }));
    }

    private static async Task<int> SubmitAllAsync(HttpClient client, string[] bodies, int concurrency, HttpStatusCode expected = HttpStatusCode.Accepted)
    {
        var next = -1;
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Length)
            {
                using var content = new StringContent(bodies[index], System.Text.Encoding.UTF8, "application/json");
                using var response = await client.PostAsync(new Uri("/v1/runs", UriKind.Relative), content);
                if (response.StatusCode != expected)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        return failures;
    }
}
