using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.EndToEnd.Tests.Operator;

namespace ComfyOperator.EndToEnd.Tests.Router;

/// <summary>
/// Cordon and drain on the emulator with the kubelet simulator, the real operator and the router's
/// Kubernetes source: <c>spec.unschedulable</c> set by hand keeps new runs off a node, and a busy node
/// that is deleted stays (its finalizer) until its running prompt has finished, or its grace period ends.
/// </summary>
public sealed class NodeDrainEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly OperatorEnvironment _env = new()
    {
        // Each sampler step takes 100 ms: a 60-step run takes about 6 s.
        ConfigureComfyUi = (_, comfy) => comfy.StepDelay = TimeSpan.FromMilliseconds(100),
    };

    public Task InitializeAsync() => _env.InitializeAsync();

    public Task DisposeAsync() => _env.DisposeAsync();

    [Fact]
    public async Task Unschedulable_SetByHand_RouterSendsItNothingNew_UntilUncordoned()
    {
        _env.StartOperator();
        var ns = await _env.CreateNamespaceAsync("cordon");
        await _env.ApplyAsync(ns, """
            apiVersion: comfyoperator.io/v1alpha1
            kind: ComfyNode
            metadata: {name: gpu-a, labels: {pool: e2e}}
            spec: {image: comfyui:test}
            ---
            apiVersion: comfyoperator.io/v1alpha1
            kind: ComfyNode
            metadata: {name: gpu-b, labels: {pool: e2e}}
            spec: {image: comfyui:test}
            ---
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata: {name: painter}
            spec: {preset: sd15, nodeSelector: {pool: e2e}}
            """);
        await WaitReadyAsync(ns, "gpu-a", "gpu-b");
        var endpointA = new Uri(await _env.JsonPathAsync(ns, "cn/gpu-a", "{.status.endpoint}")).Authority;
        var endpointB = new Uri(await _env.JsonPathAsync(ns, "cn/gpu-b", "{.status.endpoint}")).Authority;

        await using var router = KubernetesRouter.Create(_env, ns, new Dictionary<string, string> { ["Router:ProbeInterval"] = "00:00:00.200" });
        using var client = KubernetesRouter.CreateClient(router);
        await OperatorEnvironment.WaitForAsync(() => ReadyAsync(client), r => r == 2, Timeout, "painter served by 2 ready workers");

        await _env.KubectlOkAsync("patch", "cn/gpu-a", "-n", ns, "--type", "merge", "-p", """{"spec":{"unschedulable":true}}""");
        var cordoned = await OperatorEnvironment.WaitForAsync(() => NodeAsync(client, $"{ns}/gpu-a"), n => n?.GetProperty("cordoned").GetBoolean() == true, Timeout, "the router to see gpu-a cordoned");
        Assert.True(cordoned!.Value.GetProperty("drained").GetBoolean());
        Assert.False(cordoned.Value.GetProperty("eligible").GetBoolean());
        var table = await _env.KubectlOkAsync("get", "cn", "-n", ns);
        Assert.Contains("UNSCHEDULABLE", table, StringComparison.Ordinal);
        Assert.Matches(@"gpu-a\s.*\btrue\b", table);

        var whileCordoned = await RunAsync(client, 6, steps: 2);
        Assert.All(whileCordoned, run => Assert.Equal(endpointB, run.Worker));

        await _env.KubectlOkAsync("patch", "cn/gpu-a", "-n", ns, "--type", "merge", "-p", """{"spec":{"unschedulable":false}}""");
        await OperatorEnvironment.WaitForAsync(() => NodeAsync(client, $"{ns}/gpu-a"), n => n?.GetProperty("cordoned").GetBoolean() == false, Timeout, "the router to see gpu-a uncordoned");
        var after = await RunAsync(client, 8, steps: 2);
        Assert.Contains(after, run => run.Worker == endpointA);
    }

    [Fact]
    public async Task Delete_BusyNode_WaitsForItsRunningPromptThenGoes()
    {
        var ns = await _env.CreateNamespaceAsync("drain");
        var (router, client, id) = await DeleteBusyNodeAsync(ns, gracePeriodSeconds: 120, steps: 60, seed: 1);
        await using var _ = router;
        using var __ = client;

        await OperatorEnvironment.WaitForAsync(() => NodeAsync(client, $"{ns}/gpu-a"), n => n?.GetProperty("cordoned").GetBoolean() == true, Timeout, "the router to see the deleted node cordoned");
        Assert.Equal("running", await StatusAsync(client, id));
        Assert.NotEmpty(await _env.JsonPathAsync(ns, "cn/gpu-a", "{.metadata.deletionTimestamp}"));

        var run = await OperatorEnvironment.WaitForAsync(() => client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}"), r => r.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled", Timeout, "the long run to finish");
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(1, run.GetProperty("attempts").GetInt32());
        await OperatorEnvironment.WaitForAsync(() => _env.Kubectl.RunAsync(["get", "cn/gpu-a", "-n", ns]), r => !r.Succeeded && r.StdErr.Contains("NotFound", StringComparison.Ordinal), Timeout, "gpu-a to be gone once idle");
        var events = await _env.KubectlOkAsync("get", "events", "-n", ns, "--field-selector", "involvedObject.name=gpu-a", "-o", "jsonpath={.items[*].reason}");
        Assert.Contains("Draining", events, StringComparison.Ordinal);
        Assert.Contains("Drained", events.Split(' '));
    }

    [Fact]
    public async Task Delete_BusyNode_GoesWhenItsGracePeriodEnds()
    {
        var ns = await _env.CreateNamespaceAsync("grace");
        // 600 steps of 100 ms: far longer than the 2 s grace period.
        var (router, client, id) = await DeleteBusyNodeAsync(ns, gracePeriodSeconds: 2, steps: 600, seed: 2);
        await using var _ = router;
        using var __ = client;
        await OperatorEnvironment.WaitForAsync(() => _env.Kubectl.RunAsync(["get", "cn/gpu-a", "-n", ns]), r => !r.Succeeded && r.StdErr.Contains("NotFound", StringComparison.Ordinal), Timeout, "gpu-a to go after its grace period");
        var events = await _env.KubectlOkAsync("get", "events", "-n", ns, "--field-selector", "involvedObject.name=gpu-a", "-o", "jsonpath={.items[*].reason}");
        Assert.Contains("DrainTimedOut", events.Split(' '));
        Assert.DoesNotContain("Drained", events.Split(' '));
    }

    /// <summary>
    /// A router and the operator (asking that router) over one ComfyNode gpu-a serving painter; a run of
    /// <paramref name="steps"/> started on it, then gpu-a deleted without waiting.
    /// </summary>
    private async Task<(IAsyncDisposable Router, HttpClient Client, string RunId)> DeleteBusyNodeAsync(string ns, int gracePeriodSeconds, int steps, int seed)
    {
        var (router, address) = KubernetesRouter.CreateListening(_env, ns, new Dictionary<string, string> { ["Router:ProbeInterval"] = "00:00:00.200" });
        var client = KubernetesRouter.CreateClient(router);
        try
        {
            _env.StartOperatorHost(configure: o => o with { RouterUrl = address, RouterApiKey = KubernetesRouter.ApiKey });
            await _env.ApplyAsync(ns, $$$"""
                apiVersion: comfyoperator.io/v1alpha1
                kind: ComfyNode
                metadata: {name: gpu-a, labels: {pool: e2e}}
                spec: {image: comfyui:test, terminationGracePeriodSeconds: {{{gracePeriodSeconds}}}}
                ---
                apiVersion: comfyoperator.io/v1alpha1
                kind: WorkflowDeployment
                metadata: {name: painter}
                spec: {preset: sd15, nodeSelector: {pool: e2e}}
                """);
            await WaitReadyAsync(ns, "gpu-a");
            await OperatorEnvironment.WaitForAsync(() => ReadyAsync(client), r => r == 1, Timeout, "painter served by its worker");
            await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, "cn/gpu-a", "{.metadata.finalizers}"), f => f.Contains("comfyoperator.io/drain", StringComparison.Ordinal), Timeout, "the drain finalizer on gpu-a");

            var id = await SubmitAsync(client, steps: steps, seed: seed);
            await OperatorEnvironment.WaitForAsync(() => StatusAsync(client, id), s => s == "running", Timeout, "the long run to start");
            await _env.KubectlOkAsync("delete", "cn/gpu-a", "-n", ns, "--wait=false");
            return (router, client, id);
        }
        catch
        {
            client.Dispose();
            await router.DisposeAsync();
            throw;
        }
    }

    private async Task WaitReadyAsync(string ns, params string[] names)
    {
        foreach (var node in names)
        {
            await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, $"cn/{node}", "{.status.conditions[?(@.type==\"Ready\")].status}"), s => s == "True", Timeout, $"{node} Ready");
        }
    }

    private static async Task<int> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/v1/workflows/painter");
        return response.StatusCode == HttpStatusCode.OK
            ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("readiness").GetProperty("ready").GetInt32()
            : -1;
    }

    private static async Task<JsonElement?> NodeAsync(HttpClient client, string resource)
    {
        var nodes = await client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        foreach (var node in nodes.EnumerateArray())
        {
            if (node.TryGetProperty("resource", out var name) && name.GetString() == resource)
            {
                return node.Clone();
            }
        }

        return null;
    }

    private static async Task<string> StatusAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("status").GetString()!;

    private static async Task<string> SubmitAsync(HttpClient client, int steps, int seed)
    {
        using var response = await client.PostAsJsonAsync("/v1/workflows/painter/runs", new { prompt = $"a painting {seed}", steps, width = 64, height = 64, seed });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Submits runs, waits for them all to succeed, returns the worker (host:port) of each.</summary>
    private static async Task<List<(string Id, string Worker)>> RunAsync(HttpClient client, int count, int steps)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await SubmitAsync(client, steps, seed: 100 + i));
        }

        var runs = new List<(string, string)>();
        foreach (var id in ids)
        {
            var run = await OperatorEnvironment.WaitForAsync(
                () => client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}"),
                r => r.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled",
                Timeout,
                $"run {id} to finish");
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
            runs.Add((id, new Uri(run.GetProperty("worker").GetString()!).Authority));
        }

        return runs;
    }
}
