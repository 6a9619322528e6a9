using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Runs;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 6 §5: a mixed two-checkpoint workload on 8 simulated workers whose model load costs 5× a
/// sampler step. Same runs (seeded mix) under RoundRobin, LeastQueued, PowerOfTwoChoices and
/// ModelAffinity: makespan (first submit → last finish), mean run latency (queued → finished) and
/// checkpoint loads counted by the simulators.
/// </summary>
internal static class MixedWorkloadBench
{
    public static async Task RunAsync(int runs, TimeSpan step, int steps)
    {
        var load = step * 5;
        var random = new Random(6);
        var mix = Enumerable.Range(0, runs).Select(_ => random.Next(2) == 0).ToArray();
        Console.WriteLine($"mixed: {runs} runs, 8 workers, {steps} steps × {step.TotalMilliseconds:0} ms, model load {load.TotalMilliseconds:0} ms, {mix.Count(m => m)} sd15 / {mix.Count(m => !m)} sdxl");
        var results = new Dictionary<string, (double Makespan, double Latency, int Loads)>();
        foreach (var policy in new[] { "RoundRobin", "LeastQueued", "PowerOfTwoChoices", "ModelAffinity" })
        {
            results[policy] = await OneAsync(policy, mix, step, load, steps);
            var r = results[policy];
            Console.WriteLine($"mixed: {policy,-18} makespan {r.Makespan,8:0} ms   mean latency {r.Latency,8:0} ms   checkpoint loads {r.Loads,4}");
        }

        var affinity = results["ModelAffinity"];
        foreach (var baseline in new[] { "RoundRobin", "LeastQueued" })
        {
            var b = results[baseline];
            Console.WriteLine($"mixed: ModelAffinity vs {baseline}: makespan {affinity.Makespan / b.Makespan:0.00}x, mean latency {affinity.Latency / b.Latency:0.00}x, loads {affinity.Loads}/{b.Loads}");
        }
    }

    private static async Task<(double Makespan, double Latency, int Loads)> OneAsync(string policy, bool[] mix, TimeSpan step, TimeSpan load, int steps)
    {
        var workers = new List<ComfyUiSimulator>();
        for (var i = 0; i < 8; i++)
        {
            workers.Add(await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = step, ModelLoadDelay = load }));
        }

        var data = Path.Combine(Path.GetTempPath(), "router-bench", Guid.NewGuid().ToString("N"));
        await using var host = new RouterHost(new Dictionary<string, string?>
        {
            ["Router:DataDirectory"] = data,
            ["Router:Nodes:0"] = string.Join(",", workers.Select(w => w.BaseAddress.ToString())),
            ["Router:PendingLimit"] = "100000",
            ["Router:HistoryLimit"] = "100000",
            ["Router:ProbeInterval"] = "00:00:00.200",
            ["Router:PlacementPolicy"] = policy,
            ["Logging:LogLevel:Default"] = "Error",
        });
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RouterHost.ApiKey);
        while (true)
        {
            var sd15 = await client.GetFromJsonAsync<JsonElement>("/v1/workflows/sd15");
            if (sd15.GetProperty("readiness").GetProperty("ready").GetInt32() == workers.Count)
            {
                break;
            }

            await Task.Delay(50);
        }

        var start = Stopwatch.GetTimestamp();
        var ids = new List<string>();
        for (var i = 0; i < mix.Length; i++)
        {
            var graph = JsonNode.Parse(ReferenceGraphs.Sd15)!.AsObject();
            graph["4"]!["inputs"]!["ckpt_name"] = mix[i] ? ReferenceGraphs.Sd15Checkpoint : ReferenceGraphs.SdxlBaseCheckpoint;
            graph["3"]!["inputs"]!["steps"] = steps;
            graph["3"]!["inputs"]!["seed"] = i;
            graph["5"]!["inputs"]!["width"] = 64;
            graph["5"]!["inputs"]!["height"] = 64;
            using var response = await client.PostAsJsonAsync("/v1/runs", new JsonObject { ["workflow"] = graph });
            response.EnsureSuccessStatusCode();
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        var store = host.Services.GetRequiredService<IRunStore>();
        List<RunRecord> finished;
        while (true)
        {
            finished = [.. (await store.ListAsync(RunQuery.All, 1000, null, CancellationToken.None)).Runs.Where(r => r.FinishedAt is not null)];
            if (finished.Count >= ids.Count)
            {
                break;
            }

            await Task.Delay(20);
        }

        var makespan = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var latency = finished.Average(r => (r.FinishedAt!.Value - r.QueuedAt).TotalMilliseconds);
        var loads = workers.Sum(w => w.CheckpointLoads);
        Console.WriteLine($"mixed: {policy} runs per worker {string.Join(" ", workers.Select(w => w.PromptsExecuted))}; loads per worker {string.Join(" ", workers.Select(w => w.CheckpointLoads))}");
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        return (makespan, latency, loads);
    }
}
