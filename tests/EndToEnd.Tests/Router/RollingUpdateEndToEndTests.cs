using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.EndToEnd.Tests.Operator;
using ComfyOperator.Testing.ComfyUI;
using Xunit.Abstractions;

namespace ComfyOperator.EndToEnd.Tests.Router;

/// <summary>
/// Rolling template changes on the emulator with the kubelet simulator, the real operator (asking the
/// router whether a worker is drained) and the router's Kubernetes source: a template change under
/// load replaces a WorkflowDeployment's nodes one at a time, each drained before its pod goes, and
/// every run is executed exactly once.
/// </summary>
public sealed class RollingUpdateEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    private readonly OperatorEnvironment _env = new()
    {
        // Each sampler step takes 50 ms.
        ConfigureComfyUi = (_, comfy) => comfy.StepDelay = TimeSpan.FromMilliseconds(50),
    };

    private IAsyncDisposable? _router;

    public Task InitializeAsync() => _env.InitializeAsync();

    public async Task DisposeAsync()
    {
        if (_router is not null)
        {
            await _router.DisposeAsync();
        }

        await _env.DisposeAsync();
    }

    [Fact]
    public async Task TemplateChange_UnderLoad_ReplacesNodesOneAtATime_NoRunFailsOrRunsTwice()
    {
        var ns = await _env.CreateNamespaceAsync("roll");
        var (router, address) = KubernetesRouter.CreateListening(_env, ns, new Dictionary<string, string>
        {
            ["Router:ProbeInterval"] = "00:00:00.200",
            ["Router:PendingLimit"] = "1000",
            ["Router:MaxQueuePerWorker"] = "0",
        });
        _router = router;
        using var client = KubernetesRouter.CreateClient(router);
        _env.StartOperatorHost(configure: o => o with { RouterUrl = address, RouterApiKey = KubernetesRouter.ApiKey });
        await _env.ApplyAsync(ns, """
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata: {name: painter}
            spec:
              preset: sd15
              replicas: 3
              # A probe that misses under a loaded machine must not take a node out of Ready: that would
              # count as unavailable beside the node the rollout drains (and be replaced at no cost).
              template: {image: comfyui:test, terminationGracePeriodSeconds: 120, probe: {timeoutSeconds: 10, failureThreshold: 10}}
            """);
        await OperatorEnvironment.WaitForAsync(() => ReadyAsync(client), r => r == 3, Timeout, "painter served by 3 ready workers");

        // The rollout counts a node unavailable by the operator's own view of its status, which can
        // trail the router's: a node not yet Ready there is replaced at no cost. The test asserts on
        // those conditions, so it starts once the operator has written that it sees 3 ready nodes.
        await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "wfd/painter", "{.status.readyReplicas}"), r => r == "3", Timeout, "the operator to see 3 ready nodes");
        var before = await PodNamesAsync(ns);
        Assert.Equal(3, before.Count);

        // Every simulator that ever ran a pod of this test, kept after its pod is gone.
        var simulators = new Dictionary<string, ComfyUiSimulator>(StringComparer.Ordinal);
        void Track()
        {
            foreach (var (key, simulator) in _env.Kubelet.Simulators)
            {
                simulators.TryAdd(key, simulator);
            }
        }

        Track();
        Assert.Equal(0, simulators.Values.Sum(s => s.PromptsExecuted));

        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await SubmitAsync(client, steps: 6, seed: i));
        }

        await _env.KubectlOkAsync("patch", "wfd/painter", "-n", ns, "--type", "merge", "-p", """{"spec":{"template":{"extraArgs":["--preview-method","auto"]}}}""");

        // Load through the whole rollout: one run per look at the nodes; no look may find more than
        // maxUnavailable (1) node draining or not ready.
        var deadline = DateTimeOffset.UtcNow + Timeout;
        var mostUnavailable = 0;
        while (true)
        {
            Track();
            ids.Add(await SubmitAsync(client, steps: 6, seed: ids.Count));
            var nodes = await NodesAsync(ns);
            var unavailable = nodes.Count(n => !n.Ready || n.Draining);
            mostUnavailable = Math.Max(mostUnavailable, unavailable);
            if (unavailable > 1)
            {
                output.WriteLine(await _env.KubectlOkAsync("get", "events", "-n", ns, "-o", "jsonpath={range .items[*]}{.lastTimestamp} {.involvedObject.name} {.reason} {.message}{\"\\n\"}{end}"));
                output.WriteLine(await _env.KubectlOkAsync("get", "cn", "-n", ns, "-o", "yaml"));
            }

            Assert.True(unavailable <= 1, $"{unavailable} nodes unavailable at once: {string.Join(", ", nodes)}");
            var reason = await _env.JsonPathAsync(ns, "wfd/painter", "{.status.conditions[?(@.type==\"RollingUpdate\")].reason}");
            if (reason == "RolledOut" && nodes.Count == 3 && nodes.All(n => n.Ready && !before.Contains(n.Pod)))
            {
                break;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"the rollout did not finish: {reason}; {string.Join(", ", nodes)}");
        }

        foreach (var id in ids)
        {
            var run = await OperatorEnvironment.WaitForAsync(
                () => client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}"),
                r => r.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled",
                Timeout,
                $"run {id} to finish");
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
            Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        }

        Track();
        var executed = simulators.Values.Sum(s => s.PromptsExecuted);
        output.WriteLine($"{ids.Count} runs, {executed} prompts executed by {simulators.Count} simulators; at most {mostUnavailable} node unavailable at once");
        Assert.Equal(ids.Count, executed);
        Assert.Equal(6, simulators.Count);
        Assert.Equal(1, mostUnavailable);

        var events = (await _env.KubectlOkAsync("get", "events", "-n", ns, "-o", "jsonpath={range .items[*]}{.involvedObject.name}={.reason}{\"\\n\"}{end}")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine(string.Join('\n', events));
        Assert.Contains("painter=RollingUpdate", events);
        Assert.Contains("painter=RolledOut", events);
        foreach (var node in new[] { "painter-0", "painter-1", "painter-2" })
        {
            Assert.Contains($"{node}=Draining", events);
            Assert.Contains($"{node}=PodReplaced", events);
        }

        var condition = await _env.JsonPathAsync(ns, "wfd/painter", "{.status.conditions[?(@.type==\"RollingUpdate\")].status}");
        Assert.Equal("False", condition);
    }

    private sealed record NodeLook(string Name, string Pod, bool Ready, bool Draining);

    private async Task<List<NodeLook>> NodesAsync(string ns)
    {
        var json = JsonDocument.Parse(await _env.KubectlOkAsync("get", "cn", "-n", ns, "-o", "json")).RootElement;
        var looks = new List<NodeLook>();
        foreach (var item in json.GetProperty("items").EnumerateArray())
        {
            var status = item.TryGetProperty("status", out var s) ? s : default;
            bool Is(string type) => status.ValueKind == JsonValueKind.Object && status.TryGetProperty("conditions", out var conditions)
                && conditions.EnumerateArray().Any(c => c.GetProperty("type").GetString() == type && c.GetProperty("status").GetString() == "True");
            var pod = status.ValueKind == JsonValueKind.Object && status.TryGetProperty("podName", out var p) ? p.GetString() ?? "" : "";
            looks.Add(new NodeLook(item.GetProperty("metadata").GetProperty("name").GetString()!, pod, Is("Ready"), Is("Draining")));
        }

        return looks;
    }

    private async Task<HashSet<string>> PodNamesAsync(string ns) =>
        [.. (await NodesAsync(ns)).Select(n => n.Pod)];

    private static async Task<int> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/v1/workflows/painter");
        return response.StatusCode == HttpStatusCode.OK
            ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("readiness").GetProperty("ready").GetInt32()
            : -1;
    }

    private static async Task<string> SubmitAsync(HttpClient client, int steps, int seed)
    {
        using var response = await client.PostAsJsonAsync("/v1/workflows/painter/runs", new { prompt = $"a painting {seed}", steps, width = 64, height = 64, seed });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }
}
