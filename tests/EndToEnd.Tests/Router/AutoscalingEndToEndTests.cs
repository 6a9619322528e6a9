using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.EndToEnd.Tests.Operator;
using Xunit.Abstractions;

namespace ComfyOperator.EndToEnd.Tests.Router;

/// <summary>
/// Autoscaling on the emulator with the kubelet simulator, the real operator (reading the demand from
/// the router over HTTP) and the router's Kubernetes source: a burst scales a WorkflowDeployment from
/// zero to its maximum and back, and a replica removed while it runs a prompt finishes that prompt first.
/// </summary>
public sealed class AutoscalingEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly OperatorEnvironment _env = new()
    {
        // Each sampler step takes 50 ms.
        ConfigureComfyUi = (_, comfy) => comfy.StepDelay = TimeSpan.FromMilliseconds(50),
    };

    public Task InitializeAsync() => _env.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var router in _routers)
        {
            await router.DisposeAsync();
        }

        await _env.DisposeAsync();
    }

    [Fact]
    public async Task Burst_AtZeroReplicas_ScalesToMax_EveryRunSucceeds_BackToZeroAfterTheDelay()
    {
        var (ns, client, _) = await StartAsync("burst", """
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata: {name: painter}
            spec:
              preset: sd15
              replicas: 0
              template: {image: comfyui:test}
              autoscaling: {minReplicas: 0, maxReplicas: 3, targetPendingPerReplica: 2, scaleDownDelaySeconds: 3}
            """);
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/painter", "{.status.scaling}"), s => s == "ScaledToZero", Timeout, "painter at zero replicas");
        Assert.Equal(string.Empty, (await _env.KubectlOkAsync("get", "cn", "-n", ns, "-o", "name")).Trim());

        // A run at zero replicas waits (no 503) and starts once a replica is Ready.
        var clock = Stopwatch.StartNew();
        var ids = new List<string> { await SubmitAsync(client, steps: 20, seed: 0) };
        for (var i = 1; i < 12; i++)
        {
            ids.Add(await SubmitAsync(client, steps: 20, seed: i));
        }

        var maxReplicas = 0;
        var first = await OperatorEnvironment.WaitForAsync(
            async () =>
            {
                maxReplicas = Math.Max(maxReplicas, int.Parse("0" + await _env.JsonPathAsync(ns, "wfd/painter", "{.spec.replicas}"), System.Globalization.CultureInfo.InvariantCulture));
                return await StatusAsync(client, ids[0]);
            },
            s => s is "running" or "succeeded",
            Timeout,
            "the first run to start");
        output.WriteLine($"first run started {clock.Elapsed.TotalSeconds:0.0}s after it was submitted at zero replicas (status {first})");

        foreach (var id in ids)
        {
            var run = await OperatorEnvironment.WaitForAsync(
                async () =>
                {
                    maxReplicas = Math.Max(maxReplicas, int.Parse("0" + await _env.JsonPathAsync(ns, "wfd/painter", "{.spec.replicas}"), System.Globalization.CultureInfo.InvariantCulture));
                    return await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}");
                },
                r => r.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled",
                Timeout,
                $"run {id} to finish");
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
            Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        }

        Assert.Equal(3, maxReplicas);
        output.WriteLine($"12 runs done in {clock.Elapsed.TotalSeconds:0.0}s, replicas peaked at {maxReplicas}");

        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/painter", "{.spec.replicas}/{.status.scaling}"), s => s == "0/ScaledToZero", Timeout, "painter back at zero");
        await OperatorEnvironment.WaitForAsync(async () => (await _env.KubectlOkAsync("get", "cn", "-n", ns, "-o", "name")).Trim(), s => s.Length == 0, Timeout, "every ComfyNode gone");
        var events = (await _env.KubectlOkAsync("get", "events", "-n", ns, "--field-selector", "involvedObject.name=painter", "-o", "jsonpath={.items[*].reason}")).Split(' ');
        Assert.Contains("ScalingUp", events);
        Assert.Contains("ScaledToZero", events);
        var table = await _env.KubectlOkAsync("get", "wfd", "-n", ns);
        Assert.Contains("DESIRED", table, StringComparison.Ordinal);
        Assert.Contains("ScaledToZero", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScaleDown_WhileEveryReplicaRunsAPrompt_TheRemovedOneFinishesItFirst()
    {
        var (ns, client, _) = await StartAsync("down", """
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata: {name: painter}
            spec:
              preset: sd15
              replicas: 0
              template: {image: comfyui:test}
              autoscaling: {minReplicas: 0, maxReplicas: 2, targetPendingPerReplica: 1, scaleDownDelaySeconds: 1}
            """);

        // Two long runs (200 steps of 50 ms), one per replica.
        var ids = new[] { await SubmitAsync(client, steps: 200, seed: 1), await SubmitAsync(client, steps: 200, seed: 2) };
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/painter", "{.status.readyReplicas}"), s => s == "2", Timeout, "two ready replicas");
        foreach (var id in ids)
        {
            await OperatorEnvironment.WaitForAsync(() => StatusAsync(client, id), s => s == "running", Timeout, $"run {id} running");
        }

        var workers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            workers.Add((await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("worker").GetString()!);
        }

        Assert.Equal(2, workers.Count);

        // Lower the maximum: one busy replica must go now, and it drains instead of being killed.
        await _env.KubectlOkAsync("patch", "wfd/painter", "-n", ns, "--type", "merge", "-p", """{"spec":{"autoscaling":{"maxReplicas":1}}}""");
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn", "{.items[*].metadata.deletionTimestamp}"), s => s.Length > 0, Timeout, "one replica being deleted");
        foreach (var id in ids)
        {
            Assert.Equal("running", await StatusAsync(client, id));
        }

        foreach (var id in ids)
        {
            var run = await OperatorEnvironment.WaitForAsync(() => client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}"), r => r.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled", Timeout, $"run {id} to finish");
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
            Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        }

        await OperatorEnvironment.WaitForAsync(async () => (await _env.KubectlOkAsync("get", "cn", "-n", ns, "-o", "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, n => n <= 1, Timeout, "the drained replica gone");
    }

    /// <summary>Starts a router (one prompt per worker at a time) and an operator that reads its demand, then applies <paramref name="yaml"/>.</summary>
    private async Task<(string Ns, HttpClient Client, Uri Router)> StartAsync(string prefix, string yaml)
    {
        var ns = await _env.CreateNamespaceAsync(prefix);
        var (router, address) = KubernetesRouter.CreateListening(_env, ns, new Dictionary<string, string>
        {
            ["Router:ProbeInterval"] = "00:00:00.200",
            ["Router:PendingLimit"] = "1000",
            ["Router:MaxQueuePerWorker"] = "0",
        });
        _routers.Add(router);
        var client = KubernetesRouter.CreateClient(router);
        _env.StartOperatorHost(configure: o => o with { RouterUrl = address, RouterApiKey = KubernetesRouter.ApiKey, AutoscaleIntervalSeconds = 1 });
        await _env.ApplyAsync(ns, yaml);
        await OperatorEnvironment.WaitForAsync(
            async () => (await client.GetAsync("/v1/workflows/painter")).StatusCode,
            s => s == HttpStatusCode.OK,
            Timeout,
            "the router to serve painter");
        return (ns, client, address);
    }

    private readonly List<IAsyncDisposable> _routers = [];

    private static async Task<string> StatusAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("status").GetString()!;

    private static async Task<string> SubmitAsync(HttpClient client, int steps, int seed)
    {
        using var response = await client.PostAsJsonAsync("/v1/workflows/painter/runs", new { prompt = $"a painting {seed}", steps, width = 64, height = 64, seed });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }
}
