using System.Diagnostics;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Storage.Postgres;
using ComfyOperator.Router.Storage.Sqlite;
using ComfyOperator.Testing.Postgres;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// The run store's share of a run's cost: each run goes through the writes RunService makes for a
/// run that succeeds on its first attempt (insert with its queued event; dispatching; started;
/// succeeded, with the <c>progress</c> progress events published before it written in the same write),
/// 64 runs at a time, and one at a time (what a lone run pays per write), on a router.db in a temporary folder; each round is followed by
/// one for a run placed on its worker at submit (its insert writes it dispatching, with both events), and
/// one that writes every progress event on its own, as the router did before, for a same-process
/// comparison. Prints wall time and this process's CPU per run, and writes and commits per run
/// (concurrent writes share a commit). <c>store-postgres</c> does the same on a PostgreSQL server of its
/// own (Debian's binaries, fsync on, on this machine) and prints round trips to the server per run.
/// </summary>
internal static class StoreBench
{
    private static readonly int[] Concurrency = [64, 1];
    private const int Progress = 4;

    public static async Task RunAsync(int total)
    {
        var directory = Directory.CreateTempSubdirectory("store-bench-").FullName;
        try
        {
            await using var database = new SqliteRouterDatabase(Path.Combine(directory, "router.db"));
            await database.OpenAsync(CancellationToken.None);
            var store = new SqliteRunStore(database);
            await RoundsAsync(store, total, "store", () =>
            {
                var (commits, writes) = (database.Commits, database.Writes);
                return () => $"{(double)(database.Writes - writes) / total:0.0} writes and {(double)(database.Commits - commits) / total:0.00} commits per run";
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static async Task RunPostgresAsync(int total)
    {
        await using var server = await PostgresServer.StartAsync(fsync: true);
        var connectionString = await server.CreateDatabaseAsync();
        await using var database = new PostgresRouterDatabase(connectionString);
        await database.OpenAsync(CancellationToken.None);
        var store = new PostgresRunStore(database);
        await RoundsAsync(store, total, "store-postgres", () =>
        {
            var roundTrips = database.RoundTrips;
            return () => $"{(double)(database.RoundTrips - roundTrips) / total:0.0} round trips per run";
        });
    }

    /// <summary>
    /// Warm-up, then three rounds of each write pattern; <paramref name="counting"/> is called as a round starts
    /// and returns what describes the store's counters over it.
    /// </summary>
    private static async Task RoundsAsync(IRunStore store, int total, string name, Func<Func<string>> counting)
    {
        Console.WriteLine($"{name}: each run's graph is {BenchGraph.Sd15(0).ToJsonString().Length} bytes of JSON (COMFY_BENCH_GRAPH_BYTES)");
        foreach (var pattern in Enum.GetValues<WritePattern>())
        {
            await RoundAsync(store, 2000, $"warm-up-{pattern}", pattern, Concurrency[0]);
        }

        for (var round = 1; round <= 3; round++)
        {
            foreach (var concurrency in Concurrency)
            {
                foreach (var each in Enum.GetValues<WritePattern>())
                {
                    var counted = counting();
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var wall = Stopwatch.StartNew();
                    await RoundAsync(store, total, $"round-{round}-{concurrency}-{each}", each, concurrency);
                    wall.Stop();
                    var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                    Console.WriteLine(
                        $"{name}: round {round}, {Pattern(each)}: {total} runs, {concurrency} at a time: {total / wall.Elapsed.TotalSeconds:0} runs/s, "
                        + $"{wall.Elapsed.TotalMilliseconds * 1000 / total:0} µs wall and {used.TotalMilliseconds * 1000 / total:0} µs CPU of this process per run; {counted()}");
                }
            }
        }
    }

    private static string Pattern(WritePattern pattern) => pattern switch
    {
        WritePattern.PlacedAtSubmit => "placed at submit, progress with the next write",
        WritePattern.ProgressEach => "each progress written alone",
        _ => "progress with the next write",
    };

    private static async Task RoundAsync(IRunStore store, int total, string tag, WritePattern pattern, int concurrency)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                await OneRunAsync(store, $"{tag}-{i}", i, pattern);
            }
        })));
    }

    /// <summary>A run's change as the run service writes it: a compare-and-set from the sequence of its last write, with the events since.</summary>
    private static async Task WriteAsync(IRunStore store, RunRecord run, List<RunEvent> events)
    {
        if (!await store.TryUpdateWithEventsAsync(run, events, events[0].Sequence - 1, CancellationToken.None))
        {
            throw new InvalidOperationException($"Run {run.Id} moved under the bench.");
        }
    }

    private static async Task OneRunAsync(IRunStore store, string id, int seed, WritePattern pattern)
    {
        var progressEach = pattern == WritePattern.ProgressEach;
        var now = TimeProvider.System.GetUtcNow();
        var fresh = new RunRecord { Id = id, Workflow = BenchGraph.Sd15(seed).ToJsonString(), QueuedAt = now, LastEventSequence = 1 };
        var queued = new RunEvent(id, 1, RunEventTypes.Queued, "{\"status\":\"queued\",\"priority\":0}", now);
        var sequence = 2L;
        var dispatching = new RunEvent(id, sequence, RunEventTypes.Dispatching, "{\"worker\":\"http://gpu1:8188/\",\"promptId\":\"p\",\"attempt\":1}", now);
        RunRecord run;
        if (pattern == WritePattern.PlacedAtSubmit)
        {
            var placed = fresh with { Status = RunStatus.Dispatching, Worker = "http://gpu1:8188/", PromptId = "p", ClientId = "c", Attempts = 1, DispatchedAt = now, LastEventSequence = sequence };
            run = (await store.InsertWithinLimitsAsync(placed, [queued, dispatching], PendingLimits.None, CancellationToken.None)).Run!;
        }
        else
        {
            (run, _) = await store.InsertAsync(fresh, queued, CancellationToken.None);
            run = run with { Status = RunStatus.Dispatching, Worker = "http://gpu1:8188/", PromptId = "p", ClientId = "c", Attempts = 1, DispatchedAt = now, LastEventSequence = sequence };
            await WriteAsync(store, run, [dispatching]);
        }

        run = run with { Status = RunStatus.Running, StartedAt = now, LastEventSequence = ++sequence };
        await WriteAsync(store, run, [new RunEvent(id, sequence, RunEventTypes.Started, "{}", now)]);
        var waiting = new List<RunEvent>();
        for (var p = 0; p < Progress; p++)
        {
            waiting.Add(new RunEvent(id, ++sequence, RunEventTypes.Progress, "{\"node\":\"3\",\"value\":1,\"max\":2,\"fraction\":0.5}", now));
            if (progressEach)
            {
                await WriteAsync(store, run with { LastEventSequence = sequence }, waiting);
                waiting.Clear();
            }
        }

        run = run with { Status = RunStatus.Succeeded, FinishedAt = now, LastEventSequence = ++sequence, Outputs = [new RunOutput("a.png", "9", "image/png", 1234)] };
        waiting.Add(new RunEvent(id, sequence, RunEventTypes.Succeeded, "{\"outputs\":[]}", now));
        await WriteAsync(store, run, waiting);
    }

    private enum WritePattern
    {
        /// <summary>The router's writes for a run queued first: insert, dispatching, started, succeeded.</summary>
        Queued,

        /// <summary>The router's writes for a run a worker takes at submit: insert (dispatching), started, succeeded.</summary>
        PlacedAtSubmit,

        /// <summary>As <see cref="Queued"/>, with every progress event written alone.</summary>
        ProgressEach,
    }
}
