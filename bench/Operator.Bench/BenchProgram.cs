using System.Diagnostics;
using System.Globalization;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Informers;
using ComfyOperator.Operator.Hosting;
using ComfyOperator.Testing.ComfyUI;
using ComfyOperator.Testing.Kubelet;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Operator.Bench;

/// <summary>
/// Issue 4 §5 figures: N external ComfyNodes (default 1,000) on the Kubernetes API emulator, all
/// pointing at a few ComfyUI simulators, reconciled and probed by the real operator (OperatorHost,
/// as <c>comfy-operator run</c> builds it) in this process. Prints the time until every node has a
/// phase, API writes per minute in steady state (the emulator's write counter), the operator's API
/// requests per minute, and memory. Usage:
/// <c>dotnet run -c Release --project bench/Operator.Bench -- [--nodes 1000] [--simulators 4] [--managed 0..250] [--probe-period 10] [--steady-seconds 60] [--workers 16]</c>.
/// Managed nodes run through the kubelet simulator (a pod and its own ComfyUI simulator each).
/// <c>-- bursty ...</c> runs <see cref="Bursty.BurstyBench"/> instead (autoscaling over a bursty day).
/// </summary>
internal static class BenchProgram
{
    private const string Namespace = "bench";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "bursty")
        {
            return await Bursty.BurstyBench.RunAsync(args[1..]);
        }

        var nodes = Arg(args, "--nodes", 1000);
        var simulatorCount = Arg(args, "--simulators", 4);
        var probePeriod = Arg(args, "--probe-period", 10);
        var steadySeconds = Arg(args, "--steady-seconds", 60);
        var workers = Arg(args, "--workers", 16);
        var managed = Arg(args, "--managed", 0);
        if (managed > 250)
        {
            Console.Error.WriteLine("--managed: at most 250 (one kubelet simulator hands out 127.0.30.2-254)");
            return 2;
        }

        var total = nodes + managed;
        var root = FindRoot();
        var dir = Directory.CreateTempSubdirectory("operator-bench-").FullName;
        Console.WriteLine($"load at start: {LoadAverage()}; {Environment.ProcessorCount} cores");
        Console.WriteLine($"{nodes} external ComfyNodes over {simulatorCount} ComfyUI simulators and {managed} managed ones (kubelet simulator: a pod and a ComfyUI simulator each), probe period {probePeriod}s, {workers} workers; emulator, simulators and operator in this process");

        await using var emulator = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = (nodes * 4) + 1000 });
        var kubeconfig = emulator.WriteKubeconfig(Path.Combine(dir, "kubeconfig"));
        using (var kubectl = new Kubectl(kubeconfig))
        {
            var crds = await kubectl.RunAsync(["apply", "-f", Path.Combine(root, "config", "crds")]);
            if (!crds.Succeeded)
            {
                Console.Error.WriteLine(crds.ToString());
                return 1;
            }
        }

        var simulators = new List<ComfyUiSimulator>();
        for (var i = 0; i < simulatorCount; i++)
        {
            simulators.Add(await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { Host = "127.0.0.1" }));
        }

        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), HttpClientTimeout = TimeSpan.FromMinutes(2) });
        var comfyNodes = new CustomResourceClient<ComfyNode>(client);
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new() { Name = Namespace } });
        await using var watcher = new Informer<ComfyNode>(client, new InformerOptions { Namespace = Namespace });
        var allPhased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var phased = new HashSet<string>(StringComparer.Ordinal);
        void Seen(ComfyNode node)
        {
            if (string.IsNullOrEmpty(node.Status.Phase))
            {
                return;
            }

            lock (phased)
            {
                if (phased.Add(node.Metadata.Name!) && phased.Count == total)
                {
                    allPhased.TrySetResult();
                }
            }
        }

        watcher.Added += Seen;
        watcher.Updated += (_, node) => Seen(node);
        watcher.Start();
        await watcher.WaitForSyncAsync();

        await using var kubelet = managed > 0 ? KubeletSimulator.Start(new KubeletSimulatorOptions { Kubeconfig = kubeconfig, AddressBlock = 30 }) : null;
        var baseline = Snapshot();
        var options = new OperatorOptions
        {
            Kubeconfig = kubeconfig,
            LeaderElection = false,
            ProbePeriodSeconds = probePeriod,
            ProbeTimeoutSeconds = 5,
            MetricsPort = 0,
            Workers = workers,
        };
        await using var host = OperatorHost.Create(options, new OperatorHostSettings { ConsoleLogging = false });
        long apiRequests = 0;
        host.Services.GetRequiredService<KubernetesClientMetrics>().RequestCompleted += (_, _) => Interlocked.Increment(ref apiRequests);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => host.RunAsync(stop.Token));

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var node = new ComfyNode
            {
                Metadata = new() { Name = $"node-{i:D5}" },
                Spec = new ComfyNodeSpec { Url = simulators[i % simulators.Count].BaseAddress.ToString().TrimEnd('/') },
            };
            await comfyNodes.CreateAsync(node, Namespace, cancellationToken: ct);
        });
        await Parallel.ForEachAsync(Enumerable.Range(0, managed), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await comfyNodes.CreateAsync(new ComfyNode { Metadata = new() { Name = $"managed-{i:D3}" }, Spec = new ComfyNodeSpec() }, Namespace, cancellationToken: ct));
        var created = clock.Elapsed;
        await allPhased.Task.WaitAsync(TimeSpan.FromMinutes(10));
        var reconciled = clock.Elapsed;
        var idle = watcher.List().Count(n => n.Status.Phase == ComfyNodePhase.Idle);
        Console.WriteLine($"created {nodes} external ComfyNodes in {created.TotalSeconds:F1} s (8 parallel)");
        Console.WriteLine($"all {total} reconciled and probed (status.phase set) {reconciled.TotalSeconds:F1} s after the first create; {idle} Idle");
        if (managed > 0)
        {
            var allIdle = Stopwatch.StartNew();
            while (watcher.List().Count(n => n.Status.Phase == ComfyNodePhase.Idle) < total && allIdle.Elapsed < TimeSpan.FromMinutes(5))
            {
                // Polls the bench's own informer cache (no API traffic).
                await WaitAsync(TimeSpan.FromMilliseconds(200));
            }

            Console.WriteLine($"all {total} Idle (managed pods running and probed) {clock.Elapsed.TotalSeconds:F1} s after the first create; {watcher.List().Count(n => n.Status.Phase == ComfyNodePhase.Idle)} Idle");
        }
        Console.WriteLine($"during ramp-up: {emulator.WriteCount} API writes in total (creates included), {host.Runtime.StatusWrites} status writes by the operator");

        // Let the first full probe period pass so every node has been probed at least twice.
        await WaitAsync(TimeSpan.FromSeconds(probePeriod + 2));
        var writesBefore = emulator.WriteCount;
        var statusBefore = host.Runtime.StatusWrites;
        var requestsBefore = Interlocked.Read(ref apiRequests);
        var reconcilesBefore = host.Runtime.Reconciles;
        var steady = Stopwatch.StartNew();
        await WaitAsync(TimeSpan.FromSeconds(steadySeconds));
        var minutes = steady.Elapsed.TotalMinutes;
        Console.WriteLine($"steady state over {steady.Elapsed.TotalSeconds:F0} s: {(emulator.WriteCount - writesBefore) / minutes:F1} API writes/min (status writes by the operator: {(host.Runtime.StatusWrites - statusBefore) / minutes:F1}/min)");
        Console.WriteLine($"steady state: operator API requests {(Interlocked.Read(ref apiRequests) - requestsBefore) / minutes:F1}/min (reads and writes), reconciles {(host.Runtime.Reconciles - reconcilesBefore) / minutes:F0}/min ({total} nodes / {probePeriod}s probe period)");

        var after = Snapshot();
        Console.WriteLine($"memory: managed heap {Mb(after.Heap)} MiB, working set {Mb(after.WorkingSet)} MiB for the whole process; the operator's share (after minus before it started) {Mb(after.Heap - baseline.Heap)} MiB managed, {Mb(after.WorkingSet - baseline.WorkingSet)} MiB working set{(managed > 0 ? $" (includes the kubelet simulator's {managed} pod simulators, started after the baseline)" : "")}");
        Console.WriteLine($"load at end: {LoadAverage()}");

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var simulator in simulators)
        {
            await simulator.DisposeAsync();
        }

        Directory.Delete(dir, recursive: true);
        return 0;
    }

    private static (long Heap, long WorkingSet) Snapshot()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return (heap, process.WorkingSet64);
    }

    // The bench measures what happens over wall-clock time; a delay is the point here.
    private static Task WaitAsync(TimeSpan duration) => Task.Delay(duration);

    private static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture);

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? "loadavg " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "loadavg n/a";

    internal static int Arg(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal static double Arg(string[] args, string name, double fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ComfyOperator.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ComfyOperator.sln not found above " + AppContext.BaseDirectory);
    }
}
