using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Two builds of <c>comfy-router</c> (A: <c>COMFY_BENCH_ROUTER</c> or this bench's own; B: <c>COMFY_BENCH_ROUTER_B</c>)
/// measured as <see cref="LifecycleBench"/> measures one, each with its own simulated workers and data directory, in
/// rounds that alternate between them (A then B, then B then A): on a shared machine both meet the same load, so the
/// ratio of their CPU per run holds where two runs of <c>lifecycle</c> minutes apart do not. A router's CPU is
/// counted only while its own runs go through it.
/// </summary>
internal static class LifecycleCompareBench
{
    public static async Task RunAsync(int runs, int workerCount, int rounds, int historyLimit)
    {
        var b = Environment.GetEnvironmentVariable("COMFY_BENCH_ROUTER_B") is { Length: > 0 } other
            ? other
            : throw new InvalidOperationException("lifecycle-compare needs COMFY_BENCH_ROUTER_B: the comfy-router binary to compare with.");
        Console.WriteLine($"lifecycle-compare: {rounds} rounds of {runs / rounds} runs per router, {workerCount} workers each, Router:HistoryLimit {historyLimit}, A = {Environment.GetEnvironmentVariable("COMFY_BENCH_ROUTER") ?? "this bench's build"}, B = {b}; load {LifecycleBench.LoadAverage()}");
        await using var rigA = await Rig.StartAsync("A", workerCount, historyLimit, binary: null);
        await using var rigB = await Rig.StartAsync("B", workerCount, historyLimit, binary: b);
        var seed = 0;
        foreach (var rig in new[] { rigA, rigB })
        {
            await rig.WarmUpAsync(() => seed++);
        }

        var ratios = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var order = round % 2 == 0 ? new[] { rigA, rigB } : [rigB, rigA];
            var cpu = new Dictionary<Rig, (double Cpu, double Jit)>();
            foreach (var rig in order)
            {
                cpu[rig] = await rig.MeasureAsync(runs / rounds, () => seed++);
            }

            ratios.Add(cpu[rigB].Cpu / cpu[rigA].Cpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1}: A {cpu[rigA].Cpu:F2} ms/run (JIT {cpu[rigA].Jit:F2}), B {cpu[rigB].Cpu:F2} ms/run (JIT {cpu[rigB].Jit:F2}), B/A {cpu[rigB].Cpu / cpu[rigA].Cpu:F2}, load {LifecycleBench.LoadAverage()}"));
        }

        Console.WriteLine();
        Console.WriteLine("  router   runs   router CPU ms/run   of which JIT   alloc KB/run   gen0/gen1/gen2 GCs   failed");
        foreach (var rig in new[] { rigA, rigB })
        {
            var failed = await LifecycleBench.CountAsync(rig.Client, "failed");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {rig.Name,6} {rig.Runs,6} {rig.Cpu.TotalMilliseconds / rig.Runs,19:F2} {rig.Jit.TotalMilliseconds / rig.Runs,14:F2} {rig.Allocated / 1024.0 / rig.Runs,14:F0}   {$"{rig.Gen0}/{rig.Gen1}/{rig.Gen2}",-18} {failed,6}"));
        }

        ratios.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  B/A CPU per run: {rigB.Cpu.TotalMilliseconds / rigB.Runs / (rigA.Cpu.TotalMilliseconds / rigA.Runs):F2} over all rounds, median of rounds {ratios[ratios.Count / 2]:F2} (rounds from {ratios[0]:F2} to {ratios[^1]:F2})"));
    }

    /// <summary>One router process with its simulated workers, stats socket and client.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly string _data;
        private readonly RouterProcess _router;
        private readonly LifecycleBench.RouterStats _stats;
        private readonly SocketsHttpHandler _handler;

        private Rig(string name, string data, List<ComfyUiSimulator> workers, RouterProcess router, LifecycleBench.RouterStats stats, SocketsHttpHandler handler, HttpClient client)
        {
            Name = name;
            _data = data;
            Workers = workers;
            _router = router;
            _stats = stats;
            _handler = handler;
            Client = client;
        }

        public string Name { get; }

        public List<ComfyUiSimulator> Workers { get; }

        public HttpClient Client { get; }

        public int Runs { get; private set; }

        public TimeSpan Cpu { get; private set; }

        public long Allocated { get; private set; }

        public TimeSpan Jit { get; private set; }

        public int Gen0 { get; private set; }

        public int Gen1 { get; private set; }

        public int Gen2 { get; private set; }

        public static async Task<Rig> StartAsync(string name, int workerCount, int historyLimit, string? binary)
        {
            var data = Directory.CreateTempSubdirectory("router-lifecycle-compare-").FullName;
            var statsPath = Path.Combine(data, "stats.sock");
            var workers = await LifecycleBench.StartWorkersAsync(workerCount);
            var router = await LifecycleBench.StartRouterAsync(data, workers, historyLimit, statsPath, binary);
            var stats = await LifecycleBench.RouterStats.ConnectAsync(statsPath);
            var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            var client = new HttpClient(handler) { BaseAddress = router.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterHost.ApiKey);
            await LifecycleBench.WaitEligibleAsync(client, workerCount);
            Console.WriteLine($"lifecycle-compare: router {name} (pid {router.Id}) and its {workerCount} workers ready");
            return new Rig(name, data, workers, router, stats, handler, client);
        }

        public Task WarmUpAsync(Func<int> seeds) =>
            LifecycleBench.WarmUpAsync($"lifecycle: router {Name}", _router, _stats, () => LifecycleBench.DriveAsync(Client, Workers, LifecycleBench.WarmUpRound, Workers.Count, seeds), LifecycleBench.WarmUpRound);

        /// <summary>Drives <paramref name="runs"/> runs through this router; returns its CPU per run meanwhile (ms) and adds to its totals.</summary>
        public async Task<(double Cpu, double Jit)> MeasureAsync(int runs, Func<int> seeds)
        {
            var cpuBefore = _router.CpuTime;
            var before = await _stats.ReadAsync(collect: false);
            await LifecycleBench.DriveAsync(Client, Workers, runs, Workers.Count, seeds);
            var after = await _stats.ReadAsync(collect: false);
            var cpu = _router.CpuTime - cpuBefore;
            Runs += runs;
            Cpu += cpu;
            Allocated += after.Allocated - before.Allocated;
            Gen0 += after.Gen0 - before.Gen0;
            Gen1 += after.Gen1 - before.Gen1;
            Gen2 += after.Gen2 - before.Gen2;
            Jit += after.Jit - before.Jit;
            return (cpu.TotalMilliseconds / runs, (after.Jit - before.Jit).TotalMilliseconds / runs);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            _handler.Dispose();
            _stats.Dispose();
            _router.Dispose();
            await Task.WhenAll(Workers.Select(w => w.DisposeAsync().AsTask()));
            Directory.Delete(_data, recursive: true);
        }
    }
}
