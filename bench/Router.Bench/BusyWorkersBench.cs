using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;
using ComfyOperator.Testing.S3;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 14, GPUs kept busy: runs per second through the router when each prompt takes the worker some time
/// and each output takes the store some time (s3rver behind a <see cref="DelayingProxy"/>, as S3 far away).
/// All runs are submitted at once, so the router's queue always has the next run; the router keeps its
/// default <c>MaxQueuePerWorker</c> unless given. "GPU busy" is the simulated step time of the prompts run
/// over workers × wall time. Prints figures; asserts nothing about time.
/// </summary>
internal static class BusyWorkersBench
{
    private const int Steps = 2;

    public static async Task RunAsync(int runs, IReadOnlyList<int> workerCounts, TimeSpan stepDelay, TimeSpan storeDelay, int? maxQueue)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"busy: {runs} runs of a {Steps}-step graph, {stepDelay.TotalMilliseconds:0} ms steps, outputs to s3rver behind {storeDelay.TotalMilliseconds:0} ms per request, MaxQueuePerWorker {(maxQueue?.ToString(CultureInfo.InvariantCulture) ?? "default")}; load {LifecycleBench.LoadAverage()}"));
        await using var s3 = await S3rverFixture.StartAsync("busy");
        await using var proxy = DelayingProxy.Start(s3.ServiceUrl, storeDelay);
        var rows = new List<string>();
        foreach (var count in workerCounts)
        {
            var before = proxy.Held;
            rows.Add(await OneAsync(count, runs, stepDelay, proxy.Address, s3.Bucket, maxQueue) + string.Create(CultureInfo.InvariantCulture, $" {(proxy.Held - before) / (double)(runs + 4 * count),13:F1}"));
        }

        Console.WriteLine();
        Console.WriteLine("  workers    runs   failed   wall s   runs/s   GPU busy   placed at submit   store replies/run");
        foreach (var row in rows)
        {
            Console.WriteLine(row);
        }

        Console.WriteLine($"  load average at the end: {LifecycleBench.LoadAverage()}");
    }

    private static async Task<string> OneAsync(int workerCount, int runs, TimeSpan stepDelay, Uri store, string bucket, int? maxQueue)
    {
        var data = Directory.CreateTempSubdirectory("router-busy-").FullName;
        var workers = new List<ComfyUiSimulator>();
        try
        {
            workers.Add(await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = stepDelay }));
            for (var i = 1; i < workerCount; i++)
            {
                workers.Add(await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = stepDelay, ModelsDirectory = workers[0].ModelsDirectory }));
            }

            var settings = new Dictionary<string, string>
            {
                ["Router:DataDirectory"] = data,
                ["Router:Nodes:0"] = string.Join(",", workers.Select(w => w.BaseAddress.ToString())),
                ["Router:PendingLimit"] = "1000000",
                ["Router:HistoryLimit"] = "1000000",
                ["Router:ApiKeys:0"] = RouterHost.ApiKey,
                ["Router:Outputs:Kind"] = "s3",
                ["Router:Outputs:S3:ServiceUrl"] = store.ToString(),
                ["Router:Outputs:S3:Bucket"] = bucket,
                ["Router:Outputs:S3:AccessKey"] = S3rverFixture.AccessKey,
                ["Router:Outputs:S3:SecretKey"] = S3rverFixture.SecretKey,
                ["Router:Outputs:S3:UseChunkEncoding"] = "false",
            };
            if (maxQueue is { } allowance)
            {
                settings["Router:MaxQueuePerWorker"] = allowance.ToString(CultureInfo.InvariantCulture);
            }

            using var router = await RouterProcess.StartAsync(settings);
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            using var client = new HttpClient(handler) { BaseAddress = router.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterHost.ApiKey);
            await LifecycleBench.WaitEligibleAsync(client, workerCount);

            // Warm-up (JIT, connections), then the measured runs.
            await DriveAsync(client, 4 * workerCount, 0);
            var executedBefore = workers.Sum(w => w.PromptsExecuted);
            var wall = Stopwatch.StartNew();
            var placed = await DriveAsync(client, runs, 1000);
            wall.Stop();
            var executed = workers.Sum(w => w.PromptsExecuted) - executedBefore;
            var failed = await LifecycleBench.CountAsync(client, "failed");
            var busy = executed * Steps * stepDelay.TotalMilliseconds / (workerCount * wall.Elapsed.TotalMilliseconds);
            return string.Create(
                CultureInfo.InvariantCulture,
                $"  {workerCount,7} {runs,7} {failed,8} {wall.Elapsed.TotalSeconds,8:F1} {runs / wall.Elapsed.TotalSeconds,8:F1} {busy * 100,8:F0} % {placed * 100.0 / runs,10:F1} %");
        }
        finally
        {
            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask()));
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Submits <paramref name="runs"/> runs at once (16 at a time) and waits until every run has ended; returns how many a worker took at submit.</summary>
    private static async Task<int> DriveAsync(HttpClient client, int runs, int seed)
    {
        var placed = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < runs)
            {
                using var response = await client.PostAsJsonAsync(new Uri("/v1/runs", UriKind.Relative), new JsonObject { ["workflow"] = BenchGraph.Sd15(seed + next, steps: Steps) });
                if (await LifecycleBench.PlacedAtSubmitAsync(response))
                {
                    Interlocked.Increment(ref placed);
                }
            }
        }));

        var deadline = Stopwatch.StartNew();
        while (await LifecycleBench.AnyUnfinishedAsync(client))
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException($"{runs} runs did not finish within 10 minutes.");
            }

            await Task.Delay(50);
        }

        return placed;
    }
}
