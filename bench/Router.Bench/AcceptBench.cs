using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.Postgres;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Runs accepted per second: POST /v1/runs of a 1 KB graph until it is stored as queued (no worker,
/// so nothing else happens). The router is the shipped binary in its own process, so its CPU per
/// run is its own; the load generator (this process) shares the machine's cores with it. Figures are
/// for the steady state: the router is warmed up (JIT tiering, SQLite pages) until two rounds in a
/// row agree, then measured over several rounds.
/// </summary>
internal static class AcceptBench
{
    private const int WarmUpRound = 2000;
    private const int MaxWarmUpRounds = 60;

    /// <summary>Tiered compilation moves hot code from tier 0 through instrumented code to tier 1 over seconds of load, not rounds.</summary>
    private static readonly TimeSpan MinWarmUp = TimeSpan.FromSeconds(20);
    private const int MeasuredRounds = 3;

    /// <summary>Two builds compared: more rounds, as a loaded machine moves each round's figure by tens of percent.</summary>
    private const int ComparedRounds = 9;

    /// <param name="postgres">On a PostgreSQL server of its own (fsync on) instead of the SQLite file.</param>
    public static async Task RunAsync(int total, int concurrency, bool postgres = false)
    {
        await using var server = postgres ? await PostgresServer.StartAsync(fsync: true) : null;
        var store = server is null
            ? new Dictionary<string, string>()
            : new Dictionary<string, string> { ["Router:Store:Kind"] = "postgres", ["Router:Store:ConnectionString"] = await server.CreateDatabaseAsync() };
        await RunAsync(total, concurrency, store, replicas: 1, server is null ? "SQLite" : "PostgreSQL (a local server, fsync on)");
    }

    /// <summary>
    /// Two builds side by side (SQLite, a data directory each): the clients alternate between them, so both see the
    /// same load at the same moments and their CPU per run compares even on a busy machine.
    /// </summary>
    /// <param name="other">The second build's <c>comfy-router</c>; the first is <c>COMFY_BENCH_ROUTER</c> or this bench's own.</param>
    /// <param name="createdKey">The clients use a key created through <c>POST /v1/keys</c> (stored in the database), not a configured one.</param>
    public static Task CompareAsync(int total, int concurrency, string other, bool createdKey) =>
        RunAsync(total, concurrency, [], replicas: 2, $"SQLite; A = {Environment.GetEnvironmentVariable("COMFY_BENCH_ROUTER") ?? "this bench's comfy-router"}, B = {other}; {(createdKey ? "a created" : "a configured")} API key", other, createdKey);

    /// <summary>
    /// Active/active replicas (issue 18), one run of the machine: SQLite, then PostgreSQL with one active
    /// replica and with two (the clients alternate between them), each on a fresh database of one server.
    /// </summary>
    /// <param name="maxPendingPerKey">
    /// <c>Router:MaxPendingPerKey</c> (0 = off): with a limit every accept counts the key's queued runs (all of
    /// the bench's, up to the limit) in the insert's transaction, under the key's lock.
    /// </param>
    public static async Task RunReplicasAsync(int total, int concurrency, int maxPendingPerKey = 0)
    {
        var limit = maxPendingPerKey > 0
            ? new Dictionary<string, string> { ["Router:MaxPendingPerKey"] = maxPendingPerKey.ToString(System.Globalization.CultureInfo.InvariantCulture) }
            : [];
        var described = maxPendingPerKey > 0 ? $", Router:MaxPendingPerKey {maxPendingPerKey}" : "";
        await RunAsync(total, concurrency, new Dictionary<string, string>(limit), replicas: 1, "SQLite" + described);
        await using var server = await PostgresServer.StartAsync(fsync: true);
        foreach (var replicas in new[] { 1, 2 })
        {
            var store = new Dictionary<string, string>(limit)
            {
                ["Router:Store:Kind"] = "postgres",
                ["Router:Store:ConnectionString"] = await server.CreateDatabaseAsync(),
                ["Router:Store:ReplicaMode"] = "active",
            };
            await RunAsync(total, concurrency, store, replicas, $"PostgreSQL (a local server, fsync on), {replicas} active replica{(replicas == 1 ? "" : "s")}{described}");
        }
    }

    /// <param name="compared">When set, the second of the two replicas runs this build (<see cref="CompareAsync"/>).</param>
    private static async Task RunAsync(int total, int concurrency, Dictionary<string, string> store, int replicas, string label, string? compared = null, bool createdKey = false)
    {
        var data = Directory.CreateTempSubdirectory("router-bench-").FullName;
        var routers = new List<RouterProcess>();
        var clients = new List<HttpClient>();
        try
        {
            for (var i = 0; i < replicas; i++)
            {
                var settings = new Dictionary<string, string>(store)
                {
                    ["Router:DataDirectory"] = Path.Combine(data, i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ["Router:PendingLimit"] = "1000000",
                    ["Router:HistoryLimit"] = "1000000",
                    ["Router:ApiKeys:0"] = RouterHost.ApiKey,
                };
                routers.Add(await RouterProcess.StartAsync(settings, binary: i == 1 ? compared : null));
                var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
                var replicaClient = new HttpClient(handler, disposeHandler: true) { BaseAddress = routers[i].BaseAddress };
                replicaClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterHost.ApiKey);
                if (createdKey)
                {
                    using var created = await replicaClient.PostAsync(new Uri("/v1/keys", UriKind.Relative), new StringContent("{\"name\":\"bench\"}", System.Text.Encoding.UTF8, "application/json"));
                    var key = JsonNode.Parse(await created.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
                    replicaClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
                }

                clients.Add(replicaClient);
            }

            var router = new Replicas(routers);

            var seed = 0;
            string[] Bodies(int count) => [.. Enumerable.Range(Interlocked.Add(ref seed, count) - count, count)
                .Select(i => new JsonObject { ["workflow"] = BenchGraph.Sd15(i) }.ToJsonString())];
            var sample = Bodies(1)[0];
            string Each(Round round) => compared is null ? "" : $"; A {round.CpuMicrosecondsOf(0):0} µs, B {round.CpuMicrosecondsOf(1):0} µs";
            Console.WriteLine($"accept: store {label}");
            Console.WriteLine($"accept: graph body {sample.Length} bytes, {(compared is null ? MeasuredRounds : ComparedRounds)} rounds of {total} runs, {concurrency} concurrent clients, HTTP/1.1 on loopback");
            Console.WriteLine($"accept: router = the comfy-router binary ({(RouterProcess.ServerGc ? "server" : "workstation")} GC), {replicas} process{(replicas == 1 ? "" : "es")} (requests alternate between them); load generator = this process, on the same {Environment.ProcessorCount} cores");

            // Warm up until the rate settles: a cold router runs tier-0 code and reads a cold database.
            var previous = 0.0;
            var warmUp = Stopwatch.StartNew();
            for (var round = 1; round <= MaxWarmUpRounds; round++)
            {
                var rate = (await MeasureAsync(router, clients, Bodies(WarmUpRound), concurrency, HttpStatusCode.Accepted)).Rate;
                Console.WriteLine($"accept: warm-up round {round} (at {warmUp.Elapsed.TotalSeconds:0.0} s): {rate:0} runs/s");
                if (warmUp.Elapsed >= MinWarmUp && Math.Abs(rate - previous) <= 0.1 * Math.Max(rate, previous))
                {
                    break;
                }

                previous = rate;
            }

            // Calibration: what the same clients get from the cheapest endpoint and from a refused submit.
            var healthz = await MeasureAsync(router, clients, [.. Enumerable.Repeat<string?>(null, total)], concurrency, HttpStatusCode.OK);
            Console.WriteLine($"accept: baseline GET /healthz {healthz.Rate:0} requests/s, router CPU {healthz.RouterCpuMicroseconds:0} µs per request{Each(healthz)}");

            // The same bodies with a bad priority: read, authenticated, parsed and the graph validated, then refused before the store.
            var refused = await MeasureAsync(router, clients, [.. Bodies(total).Select(b => b[..^1] + ",\"priority\":\"high\"}")], concurrency, HttpStatusCode.BadRequest);
            Console.WriteLine($"accept: baseline POST /v1/runs refused after validation (nothing stored) {refused.Rate:0} requests/s, router CPU {refused.RouterCpuMicroseconds:0} µs per request{Each(refused)}");

            var rounds = new List<Round>();
            for (var round = 1; round <= (compared is null ? MeasuredRounds : ComparedRounds); round++)
            {
                var measured = await MeasureAsync(router, clients, Bodies(total), concurrency, HttpStatusCode.Accepted);
                rounds.Add(measured);
                Console.WriteLine($"accept: round {round}: {measured.Rate:0} runs/s ({measured.Elapsed.TotalMilliseconds:0} ms for {total}, {measured.Failures} failures), "
                    + $"router CPU {measured.RouterCpuMicroseconds:0} µs per run, load generator CPU {measured.ClientCpuMicroseconds:0} µs per run"
                    + Each(measured));
            }

            if (compared is not null)
            {
                var ratios = rounds.Select(r => r.CpuMicrosecondsOf(1) / r.CpuMicrosecondsOf(0)).Order().ToList();
                Console.WriteLine($"accept: B/A router CPU per run {Percentiles.Of(ratios, 50):0.000} median of {rounds.Count} rounds (min {ratios[0]:0.000}, max {ratios[^1]:0.000})");
            }

            if (compared is not null)
            {
                // The requests that never reach the store, in as many rounds: the front door's own cost, compared.
                var refusedRatios = new List<double>();
                for (var round = 1; round <= ComparedRounds; round++)
                {
                    // Four times as many: CPU time is counted in 10 ms ticks, a refusal costs tens of µs.
                    var again = await MeasureAsync(router, clients, [.. Bodies(4 * total).Select(b => b[..^1] + ",\"priority\":\"high\"}")], concurrency, HttpStatusCode.BadRequest);
                    refusedRatios.Add(again.CpuMicrosecondsOf(1) / again.CpuMicrosecondsOf(0));
                    Console.WriteLine($"accept: refused round {round}: {again.Rate:0} requests/s{Each(again)}");
                }

                refusedRatios.Sort();
                Console.WriteLine($"accept: B/A router CPU per refused request {Percentiles.Of(refusedRatios, 50):0.000} median of {refusedRatios.Count} rounds (min {refusedRatios[0]:0.000}, max {refusedRatios[^1]:0.000})");
            }

            var rates = rounds.Select(r => r.Rate).Order().ToList();
            var cpu = rounds.Select(r => r.RouterCpuMicroseconds).Order().ToList();
            Console.WriteLine($"accept: {Percentiles.Of(rates, 50):0} runs/s median (min {rates[0]:0}, max {rates[^1]:0}); "
                + $"router CPU {Percentiles.Of(cpu, 50):0} µs per run median; {rounds.Sum(r => r.Failures)} failures; load average {LoadAverage()}");
        }
        finally
        {
            foreach (var replicaClient in clients)
            {
                replicaClient.Dispose();
            }

            foreach (var replica in routers)
            {
                replica.Dispose();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Sends every body (null = GET /healthz) with <paramref name="concurrency"/> clients.</summary>
    private static async Task<Round> MeasureAsync(Replicas router, List<HttpClient> clients, string?[] bodies, int concurrency, HttpStatusCode expected)
    {
        var self = Process.GetCurrentProcess();
        var routerBefore = (Sum: router.CpuTime, Each: router.CpuTimes);
        var clientBefore = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var next = -1;
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Length)
            {
                var client = clients[index % clients.Count];
                using var response = bodies[index] is { } body
                    ? await PostAsync(client, body)
                    : await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.StatusCode != expected)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        clock.Stop();
        self.Refresh();
        var routerAfter = router.CpuTimes;
        return new Round(bodies.Length, clock.Elapsed, failures, router.CpuTime - routerBefore.Sum, self.TotalProcessorTime - clientBefore)
        {
            Each = [.. routerAfter.Select((cpu, i) => cpu - routerBefore.Each[i])],
        };
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        return await client.PostAsync(new Uri("/v1/runs", UriKind.Relative), content);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The router processes of one measurement; their CPU time is the sum of theirs.</summary>
    private sealed class Replicas(IReadOnlyList<RouterProcess> processes)
    {
        public TimeSpan CpuTime => processes.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.CpuTime);

        public TimeSpan[] CpuTimes => [.. processes.Select(p => p.CpuTime)];
    }

    private sealed record Round(int Count, TimeSpan Elapsed, int Failures, TimeSpan RouterCpu, TimeSpan ClientCpu)
    {
        public double Rate => Count / Elapsed.TotalSeconds;

        public double RouterCpuMicroseconds => RouterCpu.TotalMilliseconds * 1000 / Count;

        public double ClientCpuMicroseconds => ClientCpu.TotalMilliseconds * 1000 / Count;

        /// <summary>Each router's CPU time over the round; the clients alternate, so each took its share of the runs.</summary>
        public TimeSpan[] Each { get; init; } = [];

        public double CpuMicrosecondsOf(int router) => Each[router].TotalMilliseconds * 1000 / (Count / (double)Each.Length);
    }
}
