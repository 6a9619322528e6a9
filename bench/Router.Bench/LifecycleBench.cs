using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 14 §8: what a run costs the router over its whole life (accept → dispatch → follow →
/// outputs stored → succeeded), with M simulated ComfyUI workers. The router is the shipped
/// <c>comfy-router</c> binary in its own process, so its CPU time is its own; the simulators and the
/// load generator live in this process. Allocations and GC heap come from the router's runtime
/// through <see cref="StartupHook"/>. Runs are 2-step SD1.5 graphs (64×64) posted to
/// <c>POST /v1/runs</c>, at most two per worker outstanding (one running, one queued behind it, the
/// router's default <c>MaxQueuePerWorker</c>). Prints figures; asserts nothing about time.
/// </summary>
internal static class LifecycleBench
{
    private static readonly TimeSpan StepDelay = TimeSpan.FromMilliseconds(10);
    private static readonly string[] Unfinished = ["queued", "dispatching", "running"];

    /// <summary>Runs per warm-up round (<see cref="WarmUpAsync"/>).</summary>
    internal const int WarmUpRound = 500;

    private const int MaxWarmUpRounds = 20;

    /// <summary>The JIT's share of a warm-up round's CPU under which the router counts as warmed up.</summary>
    private const double MaxJitShare = 0.05;

    public static async Task RunAsync(int runs, IReadOnlyList<int> workerCounts, TimeSpan idle, int historyLimit)
    {
        Console.WriteLine($"lifecycle: {runs} runs of a 2-step SD1.5 graph (64x64, {StepDelay.TotalMilliseconds:0} ms steps, {BenchGraph.Sd15(0, steps: 2).ToJsonString().Length} bytes of JSON) per worker count, Router:HistoryLimit {historyLimit}; router = comfy-router ({(RouterProcess.ServerGc ? "server" : "workstation")} GC) in its own process; {Environment.ProcessorCount} cores; load {LoadAverage()}");
        var rows = new List<Row>();
        IReadOnlyList<Idle> idleFigures = [];
        foreach (var count in workerCounts)
        {
            var (row, idleRow) = await OneAsync(count, runs, count == workerCounts.Max() ? idle : TimeSpan.Zero, historyLimit);
            rows.Add(row);
            idleFigures = idleRow ?? idleFigures;
        }

        Console.WriteLine();
        Console.WriteLine("  workers    runs   failed   wall s   runs/s   router CPU ms/run   alloc KB/run   gen0/gen1/gen2 GCs   placed at submit");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {r.Workers,7} {r.Runs,7} {r.Failed,8} {r.Wall.TotalSeconds,8:F1} {r.Runs / r.Wall.TotalSeconds,8:F0} {r.Cpu.TotalMilliseconds / r.Runs,19:F2} {r.Allocated / 1024.0 / r.Runs,14:F0}   {$"{r.Gen0}/{r.Gen1}/{r.Gen2}",-18} {r.PlacedAtSubmit * 100.0 / r.Runs,5:F1} %"));
        }

        if (rows.Count > 1)
        {
            var first = rows[0];
            var last = rows[^1];
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  CPU per run, {last.Workers} vs {first.Workers} workers: {last.Cpu.TotalMilliseconds / last.Runs / (first.Cpu.TotalMilliseconds / first.Runs):F2}x"));
        }

        foreach (var i in idleFigures)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  idle, {i.Workers} connected workers, {i.Label}, {i.Duration.TotalSeconds:0} s: router CPU {i.Cpu.TotalMilliseconds / i.Duration.TotalMilliseconds * 100:F2}% of a core "
                + $"(of which JIT {i.Jit.TotalMilliseconds / i.Duration.TotalMilliseconds * 100:F2}%, {i.JitMethods} methods compiled; without it {(i.Cpu - i.Jit).TotalMilliseconds / i.Duration.TotalMilliseconds * 100:F2}%), "
                + $"{i.Allocated / 1024.0 / i.Duration.TotalSeconds:F0} KB/s allocated; working set {i.WorkingSet / 1048576.0:F0} MB at the end (sampled every second: mean {i.WorkingSetMean / 1048576.0:F0}, max {i.WorkingSetMax / 1048576.0:F0} MB), GC heap {i.Heap / 1048576.0:F0} MB "
                + $"({(i.HeapAfterCollect is { } live ? $"{live / 1048576.0:F0} MB live after a full GC, " : "")}{i.Committed / 1048576.0:F0} MB committed), {i.Threads} thread-pool threads"));
        }

        Console.WriteLine($"  load average at the end: {LoadAverage()}");
    }

    private static async Task<(Row Row, IReadOnlyList<Idle>? Idle)> OneAsync(int workerCount, int runs, TimeSpan idle, int historyLimit)
    {
        var data = Directory.CreateTempSubdirectory("router-lifecycle-").FullName;
        var statsPath = Path.Combine(data, "stats.sock");
        var workers = new List<ComfyUiSimulator>();
        try
        {
            var clock = Stopwatch.StartNew();
            workers.AddRange(await StartWorkersAsync(workerCount));
            using var router = await StartRouterAsync(data, workers, historyLimit, statsPath, binary: null);
            using var stats = await RouterStats.ConnectAsync(statsPath);
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            using var client = new HttpClient(handler) { BaseAddress = router.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterHost.ApiKey);
            await WaitEligibleAsync(client, workerCount);
            Console.WriteLine($"lifecycle: {workerCount} workers started and eligible in {clock.Elapsed.TotalSeconds:0.0} s (router pid {router.Id})");

            var seed = 0;
            await WarmUpAsync($"lifecycle: {workerCount} workers", router, stats, () => DriveAsync(client, workers, WarmUpRound, workerCount, () => seed++), WarmUpRound);

            IReadOnlyList<Idle>? idleFigures = null;
            if (idle > TimeSpan.Zero)
            {
                idleFigures = await MeasureIdleAsync(router, stats, workerCount, idle);
            }

            var cpuBefore = router.CpuTime;
            var before = await stats.ReadAsync(collect: false);
            var wall = Stopwatch.StartNew();
            var placed = await DriveAsync(client, workers, runs, workerCount, () => seed++);
            wall.Stop();
            var after = await stats.ReadAsync(collect: false);
            var cpu = router.CpuTime - cpuBefore;
            var failed = await CountAsync(client, "failed");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lifecycle: {workerCount} workers: {runs} runs in {wall.Elapsed.TotalSeconds:F1} s, router CPU {cpu.TotalMilliseconds / runs:F2} ms/run, load {LoadAverage()}"));
            return (new Row(workerCount, runs, failed, wall.Elapsed, cpu, after.Allocated - before.Allocated, after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2, placed), idleFigures);
        }
        catch (Exception ex)
        {
            // Said before the simulators are stopped: a failed run is reported even if stopping them stalls.
            Console.Error.WriteLine($"lifecycle: {workerCount} workers failed: {ex}");
            throw;
        }
        finally
        {
            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask()));
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Simulated workers with 10 ms steps sharing one models folder, started 50 at a time.</summary>
    internal static async Task<List<ComfyUiSimulator>> StartWorkersAsync(int count)
    {
        var workers = new List<ComfyUiSimulator> { await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = StepDelay }) };
        var models = workers[0].ModelsDirectory;
        for (var started = 1; started < count; started += 50)
        {
            workers.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(50, count - started)).Select(_ =>
                ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = StepDelay, ModelsDirectory = models }))));
        }

        return workers;
    }

    /// <summary>The router process for <paramref name="workers"/>, its stats served on <paramref name="statsPath"/> (<see cref="StartupHook"/>).</summary>
    internal static Task<RouterProcess> StartRouterAsync(string data, IEnumerable<ComfyUiSimulator> workers, int historyLimit, string statsPath, string? binary) =>
        RouterProcess.StartAsync(
            new Dictionary<string, string>
            {
                ["Router:DataDirectory"] = data,
                ["Router:Nodes:0"] = string.Join(",", workers.Select(w => w.BaseAddress.ToString())),
                ["Router:PendingLimit"] = "1000000",
                ["Router:HistoryLimit"] = historyLimit.ToString(CultureInfo.InvariantCulture),
                ["Router:ApiKeys:0"] = RouterHost.ApiKey,
            },
            new Dictionary<string, string>
            {
                ["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location,
                [StartupHook.SocketVariable] = statsPath,
            },
            binary);

    /// <summary>
    /// Runs rounds of <paramref name="runs"/> runs until the router is in its steady state: the JIT no longer takes a
    /// noticeable share of its CPU (tiered compilation recompiles hot methods for thousands of runs after the first)
    /// and two rounds in a row cost the same within 10 %. Without it the figure measures the JIT as much as the runs.
    /// </summary>
    internal static async Task WarmUpAsync(string label, RouterProcess router, RouterStats stats, Func<Task> round, int runs)
    {
        var clock = Stopwatch.StartNew();
        var cpuBefore = router.CpuTime;
        var previous = double.NaN;
        for (var i = 1; i <= MaxWarmUpRounds; i++)
        {
            var roundCpu = router.CpuTime;
            var before = await stats.ReadAsync(collect: false);
            await round();
            var after = await stats.ReadAsync(collect: false);
            var cpu = (router.CpuTime - roundCpu).TotalMilliseconds / runs;
            var jit = (after.Jit - before.Jit).TotalMilliseconds / runs;
            if (jit <= MaxJitShare * cpu && Math.Abs(cpu - previous) <= 0.1 * Math.Max(cpu, previous))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: steady after {i} warm-up rounds of {runs} runs ({clock.Elapsed.TotalSeconds:F0} s, router CPU {(router.CpuTime - cpuBefore).TotalSeconds:F1} s; last round {cpu:F2} ms/run, JIT {jit:F2})"));
                return;
            }

            previous = cpu;
        }

        Console.WriteLine($"{label}: not steady after {MaxWarmUpRounds} warm-up rounds (a loaded machine); measuring anyway");
    }

    /// <summary>
    /// Settles a few seconds, then watches the router do nothing but keep its workers for two
    /// windows back to back. The first (what this bench always reported) still holds the runs'
    /// after-effects: the JIT tiering up methods only the idle path makes hot, probes backing off
    /// from every interval. The second is the idle router as it stays.
    /// </summary>
    private static async Task<IReadOnlyList<Idle>> MeasureIdleAsync(RouterProcess router, RouterStats stats, int workerCount, TimeSpan duration)
    {
        await Task.Delay(TimeSpan.FromSeconds(5));
        return
        [
            await MeasureIdleWindowAsync(router, stats, workerCount, duration, "first window after the runs", collect: false),
            await MeasureIdleWindowAsync(router, stats, workerCount, duration, "second window (settled)", collect: true),
        ];
    }

    private static async Task<Idle> MeasureIdleWindowAsync(RouterProcess router, RouterStats stats, int workerCount, TimeSpan duration, string label, bool collect)
    {
        var cpuBefore = router.CpuTime;
        var before = await stats.ReadAsync(collect: false);
        var clock = Stopwatch.StartNew();
        // The working set moves within a window (the GC's gen0 budget refills, the idle trim gives it back): sampled every second.
        long sum = 0, max = 0, samples = 0;
        while (clock.Elapsed < duration)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var sample = router.WorkingSet;
            sum += sample;
            max = Math.Max(max, sample);
            samples++;
        }

        var cpu = router.CpuTime - cpuBefore;
        var elapsed = clock.Elapsed;
        var after = await stats.ReadAsync(collect: false);
        var workingSet = router.WorkingSet;
        // A full collection only after the last window: it would shrink the next window's working set.
        long? live = collect ? (await stats.ReadAsync(collect: true)).Heap : null;
        return new Idle(workerCount, label, elapsed, cpu, after.Jit - before.Jit, after.JitMethods - before.JitMethods, after.Allocated - before.Allocated, workingSet, sum / Math.Max(1, samples), max, after.Heap, live, after.Committed, after.Threads);
    }

    /// <summary>
    /// Posts <paramref name="runs"/> runs, keeping at most two per worker outstanding (counted by the
    /// simulators, so following them costs the router nothing), then waits until the router has
    /// finished every run (outputs stored, succeeded or failed). Returns how many runs a worker took at
    /// submit (answered <c>dispatching</c>, not <c>queued</c>).
    /// </summary>
    internal static async Task<int> DriveAsync(HttpClient client, List<ComfyUiSimulator> workers, int runs, int workerCount, Func<int> seeds)
    {
        var placed = 0;
        var executedBefore = workers.Sum(w => w.PromptsExecuted);
        int Executed() => workers.Sum(w => w.PromptsExecuted) - executedBefore;
        var window = 2 * workerCount;
        var submitted = 0;
        var gate = new Lock();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(16, window)).Select(async _ =>
        {
            while (true)
            {
                int seed;
                lock (gate)
                {
                    if (submitted >= runs)
                    {
                        return;
                    }

                    if (submitted - Executed() >= window)
                    {
                        seed = -1;
                    }
                    else
                    {
                        submitted++;
                        seed = seeds();
                    }
                }

                if (seed < 0)
                {
                    await Task.Delay(1);
                    continue;
                }

                using var response = await client.PostAsJsonAsync(new Uri("/v1/runs", UriKind.Relative), new JsonObject { ["workflow"] = BenchGraph.Sd15(seed, steps: 2) });
                if (await PlacedAtSubmitAsync(response))
                {
                    Interlocked.Increment(ref placed);
                }
            }
        }));

        var deadline = Stopwatch.StartNew();
        while (Executed() < runs || await AnyUnfinishedAsync(client))
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"{runs - Executed()} of {runs} runs did not finish within 5 minutes.");
            }

            await Task.Delay(50);
        }

        return placed;
    }

    /// <summary>Whether <c>POST /v1/runs</c> answered that a worker took the run at submit (<c>dispatching</c>) rather than <c>queued</c>; throws on a refusal.</summary>
    internal static async Task<bool> PlacedAtSubmitAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /v1/runs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        return run.GetProperty("status").GetString() == "dispatching";
    }

    internal static async Task<bool> AnyUnfinishedAsync(HttpClient client)
    {
        foreach (var status in Unfinished)
        {
            if (await CountAsync(client, status, limit: 1) > 0)
            {
                return true;
            }
        }

        return false;
    }

    internal static async Task<int> CountAsync(HttpClient client, string status, int limit = 100)
    {
        var page = await client.GetFromJsonAsync<JsonElement>(new Uri($"/v1/runs?status={status}&limit={limit}", UriKind.Relative));
        return page.GetProperty("runs").GetArrayLength();
    }

    internal static async Task WaitEligibleAsync(HttpClient client, int workerCount)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var nodes = await client.GetFromJsonAsync<JsonElement>(new Uri("/v1/nodes", UriKind.Relative));
            var eligible = nodes.EnumerateArray().Count(n => n.GetProperty("eligible").GetBoolean());
            if (eligible == workerCount)
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"{eligible} of {workerCount} workers eligible after 3 minutes.");
            }

            await Task.Delay(250);
        }
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private sealed record Row(int Workers, int Runs, int Failed, TimeSpan Wall, TimeSpan Cpu, long Allocated, int Gen0, int Gen1, int Gen2, int PlacedAtSubmit);

    private sealed record Idle(int Workers, string Label, TimeSpan Duration, TimeSpan Cpu, TimeSpan Jit, long JitMethods, long Allocated, long WorkingSet, long WorkingSetMean, long WorkingSetMax, long Heap, long? HeapAfterCollect, long Committed, int Threads);

    /// <summary>The client side of <see cref="StartupHook"/>.</summary>
    internal sealed class RouterStats : IDisposable
    {
        private readonly Socket _socket;
        private readonly byte[] _buffer = new byte[256];

        private RouterStats(Socket socket) => _socket = socket;

        public static async Task<RouterStats> ConnectAsync(string path)
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
                    return new RouterStats(socket);
                }
                catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
                {
                    socket.Dispose();
                    await Task.Delay(50);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
        }

        public async Task<Snapshot> ReadAsync(bool collect)
        {
            await _socket.SendAsync(new[] { (byte)(collect ? 'c' : 'r') });
            var length = 0;
            while (length == 0 || _buffer[length - 1] != (byte)'\n')
            {
                var read = await _socket.ReceiveAsync(_buffer.AsMemory(length));
                if (read == 0)
                {
                    throw new InvalidOperationException("The router closed the stats socket.");
                }

                length += read;
            }

            var fields = Encoding.ASCII.GetString(_buffer, 0, length).Split(' ');
            long At(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
            return new Snapshot(At(0), At(1), At(2), (int)At(3), (int)At(4), (int)At(5), (int)At(6), TimeSpan.FromTicks(At(7)), At(8));
        }

        public void Dispose() => _socket.Dispose();
    }

    /// <param name="Jit">Time the router's JIT has spent compiling so far (tier-up of methods that became hot goes on after warm-up); its own clock, so on a loaded machine it includes waits for a core.</param>
    internal sealed record Snapshot(long Allocated, long Heap, long Committed, int Gen0, int Gen1, int Gen2, int Threads, TimeSpan Jit, long JitMethods);
}
