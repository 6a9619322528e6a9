using System.Diagnostics;
using System.Globalization;
using ComfyOperator.Kubernetes.Informers;
using ComfyOperator.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Bench;

/// <summary>
/// Issue 2 §5 figures: an informer over N pods on the in-process emulator (time to sync, memory),
/// and watch events per second through the official client + emulator. Usage: dotnet run -c Release --project
/// bench/Kubernetes.Bench -- [objects=10000].
/// </summary>
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        await using var emulator = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { WatchHistoryCapacity = (count * 3) + 100 });
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), HttpClientTimeout = TimeSpan.FromMinutes(2) });
        Console.WriteLine($"objects: {count} pods in namespace default (emulator in the same process)");

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await client.CoreV1.CreateNamespacedPodAsync(NewPod(i), "default", cancellationToken: ct));
        Report("create (8 parallel)", count, clock.Elapsed);

        // Informer sync: LIST in pages of 500 into the cache.
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        clock.Restart();
        await using var informer = new Informer<V1Pod>(client, new InformerOptions { Namespace = "default", PageSize = 500 });
        informer.Start();
        await informer.WaitForSyncAsync();
        var syncTime = clock.Elapsed;
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        Console.WriteLine($"informer sync: {informer.Count} objects in {syncTime.TotalMilliseconds:F0} ms");
        Console.WriteLine($"informer cache managed heap: {(heapAfter - heapBefore) / 1024.0 / 1024.0:F1} MiB ({(heapAfter - heapBefore) / Math.Max(1, informer.Count)} bytes/object); process working set {process.WorkingSet64 / 1024.0 / 1024.0:F0} MiB (emulator included)");

        // Live: writes through the client, events back through the informer's watch.
        var updates = 0;
        var allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        informer.Updated += (_, _) =>
        {
            if (Interlocked.Increment(ref updates) == count)
            {
                allSeen.TrySetResult();
            }
        };
        var beforePatches = (await client.CoreV1.ListNamespacedPodAsync("default", limit: 1)).Metadata.ResourceVersion;
        clock.Restart();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"bench":"patched"}}}""", V1Patch.PatchType.MergePatch), $"pod-{i:D5}", "default", cancellationToken: ct));
        var writesDone = clock.Elapsed;
        await allSeen.Task.WaitAsync(TimeSpan.FromMinutes(5));
        Report("patch (8 parallel)", count, writesDone);
        Report("live watch: patch -> informer Updated (end to end)", count, clock.Elapsed);

        // Replay: a watch from before the patches streams every MODIFIED event as fast as client + emulator go.
        clock.Restart();
        var replayed = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await foreach (var (type, _) in client.CoreV1.WatchListNamespacedPodAsync("default", resourceVersion: beforePatches, cancellationToken: stop.Token))
        {
            if (type == WatchEventType.Modified && ++replayed == count)
            {
                break;
            }
        }

        Report("watch replay (one stream, parse to Pod)", replayed, clock.Elapsed);

        // Initial events: a watch without a version starts with ADDED for every object.
        clock.Restart();
        var added = 0;
        await foreach (var (type, _) in client.CoreV1.WatchListNamespacedPodAsync("default", cancellationToken: stop.Token))
        {
            if (type == WatchEventType.Added && ++added == count)
            {
                break;
            }
        }

        Report("watch initial ADDED (one stream)", added, clock.Elapsed);
        return 0;
    }

    private static void Report(string what, int items, TimeSpan elapsed) =>
        Console.WriteLine($"{what}: {items} in {elapsed.TotalMilliseconds:F0} ms = {items / elapsed.TotalSeconds:F0}/s");

    private static V1Pod NewPod(int i) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"pod-{i:D5}",
            Labels = new Dictionary<string, string> { ["app"] = "comfyui", ["comfyoperator.io/node"] = $"node-{i % 50}" },
            Annotations = new Dictionary<string, string> { ["comfyoperator.io/spec-hash"] = $"{i * 7919:x8}" },
        },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "comfyui",
                    Image = "ghcr.io/comfyoperator/comfyui:1.0",
                    Args = ["--listen", "0.0.0.0", "--port", "8188"],
                    Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8188 }],
                    Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["nvidia.com/gpu"] = "1", ["memory"] = "16Gi" } },
                    ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/system_stats", Port = 8188 }, PeriodSeconds = 5 },
                    VolumeMounts = [new V1VolumeMount { Name = "models", MountPath = "/models" }],
                },
            ],
            Volumes = [new V1Volume { Name = "models", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "model-cache" } }],
            NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" },
        },
    };
}
