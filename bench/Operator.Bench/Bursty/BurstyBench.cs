using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Informers;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Testing.Cluster;

namespace ComfyOperator.Operator.Bench.Bursty;

/// <summary>
/// Issue 19's figures: a seeded bursty day (<see cref="BurstyDay"/>) replayed with time compressed
/// against (a) a WorkflowDeployment autoscaled from zero to <c>--peak</c> replicas and (b) fixed
/// replicas = <c>--peak</c>, each with its own router and the real operator on the emulator and the
/// kubelet simulator (pod start delay, ComfyUI model load on first use, sampler step time). Prints
/// GPU time, runs lost, prompts executed and waits per fleet, then the time from a run at zero
/// replicas to its start, stage by stage. Usage:
/// <c>dotnet run -c Release --project bench/Operator.Bench -- bursty [--hours 24] [--seconds-per-hour 10]
/// [--peak 4] [--seed 19] [--run-seconds 24] [--pod-start-seconds 60] [--model-load-seconds 20]
/// [--scale-down-delay-seconds 600] [--target-pending 1] [--zero-samples 3] [--zero-pod-start-seconds 10]
/// [--zero-model-load-seconds 5] [--zero-run-seconds 4]</c>. The day's durations are simulated seconds;
/// the time from zero runs in real time (no compression) on a cluster of its own.
/// </summary>
internal static class BurstyBench
{
    private const int Steps = 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var hours = BenchProgram.Arg(args, "--hours", 24);
        var secondsPerHour = BenchProgram.Arg(args, "--seconds-per-hour", 10.0);
        var peak = BenchProgram.Arg(args, "--peak", 4);
        var seed = BenchProgram.Arg(args, "--seed", 19);
        var runSeconds = BenchProgram.Arg(args, "--run-seconds", 24.0);
        var podStartSeconds = BenchProgram.Arg(args, "--pod-start-seconds", 60.0);
        var modelLoadSeconds = BenchProgram.Arg(args, "--model-load-seconds", 20.0);
        var scaleDownSeconds = BenchProgram.Arg(args, "--scale-down-delay-seconds", 600.0);
        var targetPending = BenchProgram.Arg(args, "--target-pending", 1);
        var zeroSamples = BenchProgram.Arg(args, "--zero-samples", 3);
        var zeroPodStart = BenchProgram.Arg(args, "--zero-pod-start-seconds", 10.0);
        var zeroModelLoad = BenchProgram.Arg(args, "--zero-model-load-seconds", 5.0);
        var zeroRun = BenchProgram.Arg(args, "--zero-run-seconds", 4.0);
        if (hours < 1 || secondsPerHour <= 0 || peak is < 1 or > 50 || runSeconds <= 0 || zeroSamples < 1)
        {
            Console.Error.WriteLine("bursty: --hours ≥ 1, --seconds-per-hour > 0, --peak 1..50, --run-seconds > 0, --zero-samples ≥ 1");
            return 2;
        }

        // WebApplicationFactory finds the router's content root through MvcTestingAppManifest.json in the
        // current directory, which is the build output for a test run and the caller's folder for `dotnet run`.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);

        // Simulated seconds per real second.
        var scale = 3600 / secondsPerHour;
        TimeSpan Real(double simulated) => TimeSpan.FromSeconds(simulated / scale);
        var scaleDownReal = Math.Max(1, (int)Math.Round(scaleDownSeconds / scale));
        var arrivals = BurstyDay.Arrivals(hours, seed);

        Console.WriteLine($"{BenchProgram.LoadAverage()}; {Environment.ProcessorCount} cores; emulator, kubelet simulator, routers and operators in this process");
        Console.WriteLine($"time scale: 1 simulated hour = {secondsPerHour:0.##} s, {scale:0} simulated s per real s; figures below in simulated time");
        Console.WriteLine($"a run: {Steps} steps, {runSeconds:0.#} s ({Real(runSeconds).TotalMilliseconds:0.#} ms real); pod start {podStartSeconds:0} s ({Real(podStartSeconds).TotalMilliseconds:0} ms); model load on a pod's first run {modelLoadSeconds:0} s ({Real(modelLoadSeconds).TotalMilliseconds:0} ms)");
        Console.WriteLine($"operator: autoscale interval and node probe period 1 s real = {scale:0} s simulated (the least they take; the defaults are 5 s and 10 s); router probe interval 100 ms real = {0.1 * scale:0} s simulated");
        Console.WriteLine($"autoscaling: minReplicas 0, maxReplicas {peak}, targetPendingPerReplica {targetPending}, scaleDownDelaySeconds {scaleDownReal} real = {scaleDownReal * scale:0} s simulated (asked {scaleDownSeconds:0})");
        Console.WriteLine($"the day (seed {seed}): {arrivals.Count} runs over {hours} h; runs per hour: {string.Join(' ', BurstyDay.PerHour(arrivals, hours))}");

        await using var cluster = await SimulatedCluster.StartAsync(new SimulatedClusterOptions
        {
            AddressBlock = 40,
            WatchHistoryCapacity = 20_000,
            PodStartDelay = Real(podStartSeconds),
            ConfigureComfyUi = (_, comfy) =>
            {
                comfy.StepDelay = Real(runSeconds / Steps);
                comfy.ModelLoadDelay = Real(modelLoadSeconds);
            },
        });

        var autoscaled = await ReplayDayAsync(cluster, "autoscaled", Workflow(replicas: 0, $"autoscaling: {{minReplicas: 0, maxReplicas: {peak}, targetPendingPerReplica: {targetPending}, scaleDownDelaySeconds: {scaleDownReal}}}"), arrivals, hours, scale, replicasBeforeTheDay: 0);
        var fixedFleet = await ReplayDayAsync(cluster, "fixed", Workflow(replicas: peak, autoscaling: ""), arrivals, hours, scale, replicasBeforeTheDay: peak);

        Console.WriteLine();
        Console.WriteLine("| fleet | GPU-s (pods existing) | GPU-s (pods Ready) | peak pods | pods started | pod life p50 | runs | succeeded | lost | prompts executed | wait p50 | wait p95 | wait max | run p50 |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var day in new[] { autoscaled, fixedFleet })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {day.Fleet} | {day.GpuSecondsExisted:0} | {day.GpuSecondsReady:0} | {day.PeakPods} | {day.PodsStarted} | {(day.PodLifetimes.Count == 0 ? "–" : $"{DayResult.Percentile(day.PodLifetimes, 50):0} s")} | {day.Submitted} | {day.Succeeded} | {day.Lost} | {day.PromptsExecuted} | {day.WaitPercentile(50):0} s | {day.WaitPercentile(95):0} s | {day.WaitPercentile(100):0} s | {DayResult.Percentile(day.RunTimes, 50):0} s |"));
        }

        Console.WriteLine("wait: queued → started (the worker began the prompt); run: started → finished, the model load and steps plus the router's and simulator's own time per run, which the time scale magnifies");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"autoscaled / fixed GPU-seconds: {autoscaled.GpuSecondsExisted / fixedFleet.GpuSecondsExisted:0.00} (pods existing), {autoscaled.GpuSecondsReady / fixedFleet.GpuSecondsReady:0.00} (pods Ready)"));

        Console.WriteLine();
        await TimeFromZeroAsync(zeroSamples, zeroPodStart, zeroModelLoad, zeroRun);
        Console.WriteLine(BenchProgram.LoadAverage());
        return autoscaled.Lost == 0 && fixedFleet.Lost == 0 && autoscaled.PromptsExecuted == autoscaled.Submitted && fixedFleet.PromptsExecuted == fixedFleet.Submitted ? 0 : 1;
    }

    private static string Workflow(int replicas, string autoscaling) => $$"""
        apiVersion: comfyoperator.io/v1alpha1
        kind: WorkflowDeployment
        metadata: {name: painter}
        spec:
          preset: sd15
          replicas: {{replicas}}
          template: {image: comfyui:bench}
          {{autoscaling}}
        """;

    private static async Task<DayResult> ReplayDayAsync(SimulatedCluster cluster, string name, string yaml, IReadOnlyList<double> arrivals, int hours, double scale, int replicasBeforeTheDay)
    {
        Console.WriteLine($"{name}: starting its router and operator");
        await using var fleet = await BenchFleet.StartAsync(cluster, name, yaml, TimeSpan.FromMilliseconds(100));
        await BenchFleet.WaitUntilAsync(async () => await fleet.HealthyWorkersAsync() == replicasBeforeTheDay && fleet.Pods.Existing == replicasBeforeTheDay, TimeSpan.FromSeconds(120), $"{replicasBeforeTheDay} ready workers before the day");
        var executedBefore = cluster.Kubelet.PromptsExecuted;
        var podsBefore = fleet.Pods.Pods.Count;

        Console.WriteLine($"{name}: replaying {arrivals.Count} runs over {hours * 3600 / scale:0} s");
        var dayStart = TimeProvider.System.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var submissions = new List<Task<string>>(arrivals.Count);
        for (var i = 0; i < arrivals.Count; i++)
        {
            var due = TimeSpan.FromSeconds(arrivals[i] / scale);
            if (due > clock.Elapsed)
            {
                // The replay's clock: the next run arrives at its time in the trace.
                await Task.Delay(due - clock.Elapsed);
            }

            submissions.Add(fleet.SubmitAsync(Steps, seed: i));
        }

        var ids = await Task.WhenAll(submissions);
        var dayLength = TimeSpan.FromSeconds(hours * 3600 / scale);
        if (dayLength > clock.Elapsed)
        {
            // The rest of the day (quiet hours cost GPU time too).
            await Task.Delay(dayLength - clock.Elapsed);
        }

        var runs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        await BenchFleet.WaitUntilAsync(
            async () =>
            {
                foreach (var id in ids.Where(id => !runs.ContainsKey(id)))
                {
                    var run = await fleet.RunAsync(id);
                    if (run.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled")
                    {
                        runs[id] = run;
                    }
                }

                return runs.Count == ids.Length;
            },
            TimeSpan.FromMinutes(5),
            "every run to finish");
        var lastFinish = runs.Values.Max(r => r.GetProperty("finishedAt").GetDateTimeOffset());
        var dayEnd = dayStart + dayLength;
        var windowEnd = lastFinish > dayEnd ? lastFinish : dayEnd;
        var runTimes = runs.Values
            .Where(r => r.GetProperty("startedAt").ValueKind == JsonValueKind.String && r.GetProperty("finishedAt").ValueKind == JsonValueKind.String)
            .Select(r => (r.GetProperty("finishedAt").GetDateTimeOffset() - r.GetProperty("startedAt").GetDateTimeOffset()).TotalSeconds * scale)
            .ToList();
        var waits = runs.Values
            .Where(r => r.GetProperty("startedAt").ValueKind == JsonValueKind.String)
            .Select(r => (r.GetProperty("startedAt").GetDateTimeOffset() - r.GetProperty("queuedAt").GetDateTimeOffset()).TotalSeconds * scale)
            .ToList();
        return new DayResult(
            name,
            fleet.Pods.Seconds(dayStart, windowEnd, readyOnly: false) * scale,
            fleet.Pods.Seconds(dayStart, windowEnd, readyOnly: true) * scale,
            fleet.Pods.Peak(dayStart, windowEnd),
            fleet.Pods.Pods.Count - podsBefore,
            [.. fleet.Pods.Lifetimes(dayStart, windowEnd).Select(s => s * scale)],
            ids.Length,
            runs.Values.Count(r => r.GetProperty("status").GetString() == "succeeded"),
            cluster.Kubelet.PromptsExecuted - executedBefore,
            waits,
            runTimes);
    }

    /// <summary>
    /// At zero replicas, submits one run and follows it in real time: the operator raises spec.replicas,
    /// makes the ComfyNode, its pod starts (the simulated pod start) and gets Ready, the operator's probe
    /// makes the node Ready, the router's probe finds the worker healthy, the run starts, and finishes
    /// after the model load and its steps. Defaults: the operator's autoscale interval 1 s, the router's probe 100 ms.
    /// </summary>
    private static async Task TimeFromZeroAsync(int samples, double podStartSeconds, double modelLoadSeconds, double runSeconds)
    {
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatedClusterOptions
        {
            AddressBlock = 41,
            PodStartDelay = TimeSpan.FromSeconds(podStartSeconds),
            ConfigureComfyUi = (_, comfy) =>
            {
                comfy.StepDelay = TimeSpan.FromSeconds(runSeconds / Steps);
                comfy.ModelLoadDelay = TimeSpan.FromSeconds(modelLoadSeconds);
            },
        });
        var yaml = Workflow(replicas: 0, "autoscaling: {minReplicas: 0, maxReplicas: 1, targetPendingPerReplica: 1, scaleDownDelaySeconds: 1}");
        await using var fleet = await BenchFleet.StartAsync(cluster, "zero", yaml, TimeSpan.FromMilliseconds(100));
        var marks = new List<(string What, DateTimeOffset At)>();
        void Mark(string what)
        {
            lock (marks)
            {
                marks.Add((what, TimeProvider.System.GetUtcNow()));
            }
        }

        await using var deployments = new Informer<WorkflowDeployment>(cluster.Client, new InformerOptions { Namespace = fleet.Namespace });
        deployments.Updated += (old, now) =>
        {
            if (old.Spec.Replicas == 0 && now.Spec.Replicas > 0)
            {
                Mark("replicas");
            }
        };
        await using var nodes = new Informer<ComfyNode>(cluster.Client, new InformerOptions { Namespace = fleet.Namespace });
        nodes.Added += _ => Mark("node");
        nodes.Updated += (old, now) =>
        {
            if (!old.Status.Conditions.IsConditionTrue(ConditionTypes.Ready) && now.Status.Conditions.IsConditionTrue(ConditionTypes.Ready))
            {
                Mark("node ready");
            }
        };
        deployments.Start();
        nodes.Start();
        await deployments.WaitForSyncAsync();
        await nodes.WaitForSyncAsync();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time from zero, in real time: one run submitted at zero replicas (pod start {podStartSeconds:0.#} s, model load {modelLoadSeconds:0.#} s, run {runSeconds:0.#} s; autoscale interval and node probe period 1 s, router probe 100 ms); seconds since the run was queued"));
        Console.WriteLine("| sample | replicas raised | ComfyNode created | pod created | pod Ready | ComfyNode Ready | worker healthy in router | run started | run finished | ours |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        for (var sample = 1; sample <= samples; sample++)
        {
            await BenchFleet.WaitUntilAsync(
                async () => deployments.List().Single().Status.Scaling == "ScaledToZero" && fleet.Pods.Existing == 0 && await fleet.HealthyWorkersAsync() == 0,
                TimeSpan.FromSeconds(120),
                "painter at zero replicas");
            var id = await fleet.SubmitAsync(Steps, seed: 1_000_000 + sample);
            DateTimeOffset? healthy = null;
            JsonElement run = default;
            await BenchFleet.WaitUntilAsync(
                async () =>
                {
                    if (healthy is null && await fleet.HealthyWorkersAsync() > 0)
                    {
                        healthy = TimeProvider.System.GetUtcNow();
                    }

                    run = await fleet.RunAsync(id);
                    return run.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";
                },
                TimeSpan.FromSeconds(120),
                "the run from zero to finish");
            var queued = run.GetProperty("queuedAt").GetDateTimeOffset();
            DateTimeOffset? First(string what)
            {
                lock (marks)
                {
                    return marks.Where(m => m.What == what && m.At >= queued).Select(m => (DateTimeOffset?)m.At).Min();
                }
            }

            var pod = fleet.Pods.Pods.Where(p => p.Created >= queued).MinBy(p => p.Created);
            string Since(DateTimeOffset? at) => at is { } t
                ? string.Create(CultureInfo.InvariantCulture, $"{(t - queued).TotalSeconds:0.00}")
                : "–";
            // Time to the start not spent in the simulated pod start: the operator, the router and the API.
            double Ours(DateTimeOffset? at) => at is { } t ? (t - queued).TotalSeconds - podStartSeconds : double.NaN;
            var started = run.GetProperty("startedAt").ValueKind == JsonValueKind.String ? run.GetProperty("startedAt").GetDateTimeOffset() : (DateTimeOffset?)null;
            Console.WriteLine($"| {sample} | {Since(First("replicas"))} | {Since(First("node"))} | {Since(pod?.Created)} | {Since(pod?.Ready)} | {Since(First("node ready"))} | {Since(healthy)} | {Since(started)} | {Since(run.GetProperty("finishedAt").GetDateTimeOffset())} ({run.GetProperty("status").GetString()}) | {Ours(started):0.00} |");
        }
    }
}
