using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Tests.Metrics;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>
/// A workflow's demand (runs pending and running) in <c>GET /v1/workflows/{name}</c> and in
/// <c>comfy_router_workflow_runs</c>: the same numbers in both, counted from the run store.
/// </summary>
public sealed class WorkflowDemandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Demand_RunsQueuedAndRunning_ShownInApiAndMetricUntilTheyFinish()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(50));
        using var anonymous = cluster.Router.CreateClient();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await cluster.Client.PostAsJsonAsync("/v1/workflows/sd15/runs", new { prompt = $"a fox {i}", steps = 20, width = 64, height = 64, seed = i });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        await cluster.WaitForStatusAsync(ids[0], "running");
        var (pending, running) = await DemandAsync(cluster.Client, "sd15");
        Assert.True(running >= 1, $"running {running}");
        Assert.True(pending >= 1, $"pending {pending}");
        Assert.True(pending + running <= 5, $"pending {pending} + running {running}");

        // The metric reads the same count (reused for up to a second, so both see the same store read or a later one).
        var text = await RouterMetricsTests.ScrapeAsync(anonymous);
        var metricPending = RouterMetricsTests.Sample(text, "comfy_router_workflow_runs{state=\"pending\",workflow=\"sd15\"}");
        var metricRunning = RouterMetricsTests.Sample(text, "comfy_router_workflow_runs{state=\"running\",workflow=\"sd15\"}");
        Assert.True(metricPending + metricRunning is >= 1 and <= 5, text);
        Assert.Contains("comfy_router_workflow_runs{state=\"pending\",workflow=\"sdxl\"} 0", text, StringComparison.Ordinal);

        foreach (var id in ids)
        {
            await cluster.WaitForStatusAsync(id, "succeeded", Timeout);
        }

        await Wait.UntilAsync(async () => await DemandAsync(cluster.Client, "sd15") == (0, 0), Timeout, "the demand to fall to zero");
        await Wait.UntilAsync(
            async () =>
            {
                var after = await RouterMetricsTests.ScrapeAsync(anonymous);
                return after.Contains("comfy_router_workflow_runs{state=\"pending\",workflow=\"sd15\"} 0\n", StringComparison.Ordinal)
                    && after.Contains("comfy_router_workflow_runs{state=\"running\",workflow=\"sd15\"} 0\n", StringComparison.Ordinal);
            },
            Timeout,
            "the metric to fall to zero");
    }

    [Fact]
    public async Task Demand_QueuedRunsAcrossARestart_CountedFromTheStore()
    {
        await using var cluster = await SimulatedCluster.StartAsync(0, settings: new Dictionary<string, string?> { ["Router:QueueWhenUnavailable"] = "true" });
        for (var i = 0; i < 3; i++)
        {
            using var response = await cluster.Client.PostAsJsonAsync("/v1/workflows/sd15/runs", new { prompt = $"a fox {i}", seed = i });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal((3, 0), await DemandAsync(cluster.Client, "sd15"));
        Assert.Equal((0, 0), await DemandAsync(cluster.Client, "sdxl"));

        await cluster.RestartRouterAsync();

        Assert.Equal((3, 0), await DemandAsync(cluster.Client, "sd15"));
        var list = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/workflows");
        var listed = list.EnumerateArray().Single(w => w.GetProperty("name").GetString() == "sd15");
        Assert.Equal(3, listed.GetProperty("demand").GetProperty("pending").GetInt32());
    }

    private static async Task<(int Pending, int Running)> DemandAsync(HttpClient client, string workflow)
    {
        var body = await client.GetFromJsonAsync<JsonElement>($"/v1/workflows/{workflow}");
        var demand = body.GetProperty("demand");
        return (demand.GetProperty("pending").GetInt32(), demand.GetProperty("running").GetInt32());
    }
}
