using System.Globalization;

namespace ComfyOperator.Router.Bench;

/// <summary>Figures for issue 5 §7. Usage: <c>dotnet run -c Release --project bench/Router.Bench [accept|accept-postgres|accept-replicas|dispatch|all|mixed|decision|scheduling|io|outputs|store|store-postgres|lifecycle|comfyui|relay] [runs]</c>; <c>accept-replicas [runs] [max pending per key]</c>; <c>accept-compare [runs] [other comfy-router] [created-key]</c>; <c>lifecycle [runs] [workers,...] [idle seconds] [history limit]</c>; <c>lifecycle-compare [runs] [workers] [rounds] [history limit]</c>; <c>comfyui [prompts] [clients] [step ms]</c>; <c>object-info [reads]</c>; <c>busy [runs] [workers,...] [step ms] [store ms per request] [MaxQueuePerWorker]</c>.</summary>
internal static class BenchProgram
{
    public static async Task Main(string[] args)
    {
        // WebApplicationFactory looks for the router's project folder; the built output is enough here.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_COMFY-ROUTER", AppContext.BaseDirectory);
        var what = args.Length > 0 ? args[0] : "all";
        var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5000;
        if (what is "accept" or "all")
        {
            await AcceptBench.RunAsync(runs, concurrency: 32);
        }

        // Two builds under the same load at once: accept-compare [runs] <other build's comfy-router> [created-key].
        if (what is "accept-compare")
        {
            await AcceptBench.CompareAsync(runs, concurrency: 32, args[2], createdKey: args.Length > 3 && args[3] == "created-key");
        }

        if (what is "accept-postgres")
        {
            await AcceptBench.RunAsync(runs, concurrency: 32, postgres: true);
        }

        // Issue 18: accepted runs/s on SQLite, and on PostgreSQL with one and two active replicas, in one run.
        if (what is "accept-replicas")
        {
            await AcceptBench.RunReplicasAsync(runs, concurrency: 32, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0);
        }

        if (what is "dispatch" or "all")
        {
            await DispatchBench.RunAsync(Math.Min(runs, 300));
        }

        // Issue 6 §5: scheduling figures.
        if (what is "mixed" or "scheduling")
        {
            var stepMs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50;
            await MixedWorkloadBench.RunAsync(args.Length > 1 ? runs : 160, TimeSpan.FromMilliseconds(stepMs), steps: 4);
        }

        if (what is "decision" or "scheduling")
        {
            DecisionCostBench.Run(workerCount: 1000, queued: 10_000, decisions: 2000);
        }

        // Issue 14 §5: the run store's writes per run.
        if (what is "store")
        {
            await StoreBench.RunAsync(runs);
        }

        if (what is "store-postgres")
        {
            await StoreBench.RunPostgresAsync(runs);
        }

        // Issue 7 §5: input-cache download and hit cost, S3 upload throughput.
        if (what is "io")
        {
            await IoBench.RunAsync(CancellationToken.None);
        }

        // Issue 14 §8: what saving one small output costs the local output store.
        if (what is "outputs")
        {
            await OutputStoreBench.RunAsync(args.Length > 1 ? runs : 5000, CancellationToken.None);
        }

        // Issue 16: a ComfyUI client through the router against the same client straight to a simulator.
        if (what is "comfyui")
        {
            await ComfyApiBench.RunAsync(
                args.Length > 1 ? runs : 200,
                args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100,
                TimeSpan.FromMilliseconds(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 0));
        }

        // The comfyui bench's TCP relay, as its own process (RelayProcess).
        if (what is "tcp-relay")
        {
            await RelayProcess.ServeAsync(int.Parse(args[1], CultureInfo.InvariantCulture));
            return;
        }

        // Issue 16: the router's CPU and allocations per worker message relayed to a ComfyUI client.
        if (what is "relay")
        {
            await RelayBench.RunAsync(args.Length > 1 ? runs : 2000);
        }

        // Issue 14 §8: the periodic re-read of a worker's /object_info.
        if (what is "object-info")
        {
            await ObjectInfoReadBench.RunAsync(args.Length > 1 ? runs : 300, CancellationToken.None);
        }

        // Issue 14 §8: router CPU and allocations per run over a run's whole life; idle cost of many workers.
        if (what is "lifecycle")
        {
            var workers = args.Length > 2 ? args[2].Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray() : [10, 1000];
            var idle = TimeSpan.FromSeconds(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 60);
            await LifecycleBench.RunAsync(args.Length > 1 ? runs : 2000, workers, idle, HistoryLimitArgument(args, 4));
        }

        // Issue 14: two builds' CPU per run, measured in alternating rounds on the same machine.
        if (what is "lifecycle-compare")
        {
            var workers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
            var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 8;
            await LifecycleCompareBench.RunAsync(args.Length > 1 ? runs : 4000, workers, rounds, HistoryLimitArgument(args, 4));
        }

        // Issue 14, GPUs kept busy: runs/s with steps that take time and an output store that takes time per file.
        if (what is "busy")
        {
            var workers = args.Length > 2 ? args[2].Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray() : [2, 10];
            var step = TimeSpan.FromMilliseconds(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 20);
            var store = TimeSpan.FromMilliseconds(args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 50);
            int? maxQueue = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : null;
            await BusyWorkersBench.RunAsync(args.Length > 1 ? runs : 400, workers, step, store, maxQueue);
        }
    }

    /// <summary>
    /// Router:HistoryLimit for the lifecycle benches: by default so large that nothing is pruned while measuring (a run's
    /// life ends at succeeded); the router's own default, 50, adds each run's removal from history to its cost.
    /// </summary>
    private static int HistoryLimitArgument(string[] args, int index) =>
        args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : 1_000_000;
}
