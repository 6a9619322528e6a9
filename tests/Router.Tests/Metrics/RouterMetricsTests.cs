using System.Net;
using System.Net.Http.Json;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using ComfyOperator.Testing.Prometheus;

namespace ComfyOperator.Router.Tests.Metrics;

public sealed class RouterMetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Metrics_SubmitRuns_IncrementSubmittedSeriesAndQueueDepthWithoutCredentials()
    {
        await using var factory = new RouterFactory();
        using var client = factory.CreateAuthorizedClient();
        using var anonymous = factory.CreateClient();
        var before = Sample(await ScrapeAsync(anonymous), "comfy_router_runs_submitted_total{workflow=\"adhoc\"}");

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(), priority: 5));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var text = await ScrapeAsync(anonymous);
        Assert.Equal(before + 3, Sample(text, "comfy_router_runs_submitted_total{workflow=\"adhoc\"}"));
        Assert.Equal(3, Sample(text, "comfy_router_queue_depth{priority=\"5\",workflow=\"adhoc\"}"));
        Assert.Equal(3, Sample(text, "comfy_router_http_requests_total{method=\"POST\",route=\"/v1/runs\",status=\"202\"}"));
    }

    [Fact]
    public async Task Metrics_CancelQueuedRun_CountsFinishedCancelledAndEmptiesQueue()
    {
        await using var factory = new RouterFactory();
        using var client = factory.CreateAuthorizedClient();
        using var submitted = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15()));
        var id = (await submitted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();

        using var cancelled = await client.DeleteAsync(new Uri($"/v1/runs/{id}", UriKind.Relative));

        var text = await ScrapeAsync(factory.CreateClient());
        Assert.Equal(1, Sample(text, "comfy_router_runs_finished_total{outcome=\"cancelled\",workflow=\"adhoc\"}"));
        Assert.DoesNotContain("comfy_router_queue_depth{", text);
    }

    [Fact]
    public async Task Metrics_WorkflowRun_LabelledWithTheWorkflowName()
    {
        await using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:QueueWhenUnavailable"] = "true" });
        using var client = factory.CreateAuthorizedClient();
        using var submitted = await client.PostAsJsonAsync("/v1/workflows/sd15/runs?priority=3", new { prompt = "a red fox" });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();

        var queued = await ScrapeAsync(factory.CreateClient());
        Assert.Equal(1, Sample(queued, "comfy_router_runs_submitted_total{workflow=\"sd15\"}"));
        Assert.Equal(1, Sample(queued, "comfy_router_queue_depth{priority=\"3\",workflow=\"sd15\"}"));
        Assert.DoesNotContain("comfy_router_runs_submitted_total{workflow=\"adhoc\"}", queued);

        using var cancelled = await client.DeleteAsync(new Uri($"/v1/runs/{id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(1, Sample(await ScrapeAsync(factory.CreateClient()), "comfy_router_runs_finished_total{outcome=\"cancelled\",workflow=\"sd15\"}"));
    }

    [Fact]
    public async Task Metrics_WorkerKilled_ShowsOffline()
    {
        await using var simulator = await ComfyUiSimulator.StartAsync();
        await using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:Nodes:0"] = simulator.BaseAddress.ToString() });
        using var client = factory.CreateClient();
        var worker = simulator.BaseAddress.GetLeftPart(UriPartial.Authority);
        var idle = $"comfy_router_worker_state{{state=\"Idle\",worker=\"{worker}\"}}";
        var offline = $"comfy_router_worker_state{{state=\"Offline\",worker=\"{worker}\"}}";

        await Wait.UntilAsync(async () => Sample(await ScrapeAsync(client), idle) == 1, Timeout, "the worker to be Idle");
        simulator.Die();
        await Wait.UntilAsync(async () => Sample(await ScrapeAsync(client), offline) == 1, Timeout, "the worker to show Offline");

        var text = await ScrapeAsync(client);
        Assert.Equal(0, Sample(text, idle));
    }

    [Fact]
    public async Task Metrics_UnderLoad_PassesPromtool()
    {
        await using var simulator = await ComfyUiSimulator.StartAsync();
        await using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:Nodes:0"] = simulator.BaseAddress.ToString(), ["Router:Nodes:1"] = "http://127.0.0.1:1" });
        using var client = factory.CreateAuthorizedClient();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = i % 4 == 0
                ? await client.GetAsync(new Uri($"/v1/runs/missing-{i}", UriKind.Relative))
                : await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(seed: i), priority: i % 3));
        }));

        var text = await ScrapeAsync(client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text, timeout.Token);

        Assert.True(exitCode == 0, $"promtool check metrics failed:\n{output}\n---\n{text}");
        Assert.Contains("comfy_router_http_requests_total{method=\"GET\",route=\"/v1/runs/{id}\",status=\"404\"} 5", text);
    }

    [Fact]
    public async Task Metrics_SeparatePortConfigured_NotOnApiPort()
    {
        await using var factory = new RouterFactory(new Dictionary<string, string?> { ["Metrics:Port"] = "0", ["Metrics:Host"] = "127.0.0.1" });
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    internal static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the sample line starting with <paramref name="series"/>, or 0 when absent.</summary>
    internal static double Sample(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
