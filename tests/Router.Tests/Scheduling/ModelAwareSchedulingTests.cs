using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Router.Tests.Support;
using Xunit.Abstractions;

namespace ComfyOperator.Router.Tests.Scheduling;

public sealed class ModelAwareSchedulingTests(ITestOutputHelper output)
{
    /// <summary>A fixed, irregular mix of the two checkpoints (round robin must not line up with it by chance).</summary>
    private const string Mix = "BBBAABAABBAAABBAAAAAAAABBBAABBAABBBABBABAAABABBAAAAAABBBBAABBABB";

    private static async Task<int> CheckpointSwitchesAsync(string policy)
    {
        await using var cluster = await SimulatedCluster.StartAsync(
            4,
            // Runs long enough (and loads dear enough) that the queue fills faster than 4 workers drain it
            // even on a loaded machine: that queue is what affinity chooses from.
            o => { o.StepDelay = TimeSpan.FromMilliseconds(40); o.ModelLoadDelay = TimeSpan.FromMilliseconds(200); },
            new Dictionary<string, string?> { ["Router:PlacementPolicy"] = policy });
        await WaitForModelListsAsync(cluster);

        var ids = new List<string>();
        for (var i = 0; i < Mix.Length; i++)
        {
            var graph = Graphs.Sd15(steps: 2, seed: i);
            graph["4"]!["inputs"]!["ckpt_name"] = Mix[i] == 'A' ? ReferenceGraphs.Sd15Checkpoint : ReferenceGraphs.SdxlBaseCheckpoint;
            using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));
            response.EnsureSuccessStatusCode();
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        foreach (var id in ids)
        {
            await cluster.WaitForStatusAsync(id, "succeeded");
        }

        return cluster.Workers.Sum(w => w.CheckpointLoads);
    }

    private static Task WaitForModelListsAsync(SimulatedCluster cluster) =>
        Wait.UntilAsync(async () =>
        {
            var sd15 = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/workflows/sd15");
            return sd15.GetProperty("readiness").GetProperty("ready").GetInt32() == cluster.Workers.Count;
        }, TimeSpan.FromSeconds(30), "every worker's model lists");

    [Fact]
    public async Task ModelAffinity_MixedTwoCheckpointWorkload_FarFewerSwitchesThanRoundRobin()
    {
        var roundRobin = await CheckpointSwitchesAsync("RoundRobin");
        var affinity = await CheckpointSwitchesAsync("ModelAffinity");
        output.WriteLine($"checkpoint loads: RoundRobin {roundRobin}, ModelAffinity {affinity}");

        // 64 runs on 4 workers: round robin reloads on about every other run; affinity keeps each
        // checkpoint on the workers that hold it (the first load on each worker counts too).
        Assert.True(affinity * 2 < roundRobin, $"affinity {affinity} checkpoint loads vs round robin {roundRobin}");
        Assert.InRange(affinity, 2, Mix.Length / 3);
    }

    [Fact]
    public async Task FairShare_FloodingKeyAndLightKey_LightRunsAreNotStuckBehindTheFlood()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(15));
        var flood = new List<string>();
        for (var i = 0; i < 24; i++)
        {
            flood.Add(await cluster.SubmitAsync(steps: 2, seed: i));
        }

        using var light = cluster.Router.CreateClient();
        light.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:admin")));
        var lightIds = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await light.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(steps: 2, seed: 100 + i)));
            response.EnsureSuccessStatusCode();
            lightIds.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        foreach (var id in flood.Concat(lightIds))
        {
            await cluster.WaitForStatusAsync(id, "succeeded");
        }

        var order = (await cluster.AllRunsAsync()).OrderBy(r => r.DispatchedAt).Select(r => r.Id).ToList();
        var lightPositions = lightIds.Select(id => order.IndexOf(id)).ToList();
        var lastFloodPosition = flood.Max(id => order.IndexOf(id));

        // FIFO would dispatch them at 24..27; fair share interleaves them with the flood as soon as they arrive.
        Assert.True(lightPositions.Max() < lastFloodPosition - 8, $"light runs dispatched at {string.Join(",", lightPositions)} of {order.Count}");
        Assert.All(lightPositions.Zip(lightPositions.Skip(1)), p => Assert.InRange(p.Second - p.First, 1, 3));
    }
}
