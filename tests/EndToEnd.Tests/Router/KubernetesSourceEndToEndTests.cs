using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.EndToEnd.Tests.Operator;

namespace ComfyOperator.EndToEnd.Tests.Router;

/// <summary>
/// The router with the Kubernetes source, on the emulator with the real operator: a WorkflowDeployment
/// selects two ComfyNodes by label, they become Ready, runs flow to both; one node is deleted and
/// the traffic moves to the other.
/// </summary>
public sealed class KubernetesSourceEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly OperatorEnvironment _env = new();

    public async Task InitializeAsync()
    {
        await _env.InitializeAsync();
        _env.StartOperator();
    }

    public Task DisposeAsync() => _env.DisposeAsync();

    [Fact]
    public async Task WorkflowDeployment_RunsFlowToReadyNodes_DeleteOneNode_TrafficMoves()
    {
        var ns = await _env.CreateNamespaceAsync("router");
        var path = Path.Combine(Path.GetTempPath(), $"router-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, """
            apiVersion: comfyoperator.io/v1alpha1
            kind: ComfyNode
            metadata:
              name: gpu-a
              labels: {pool: e2e}
            spec:
              image: comfyui:test
              labels: {gpu: sim}
            ---
            apiVersion: comfyoperator.io/v1alpha1
            kind: ComfyNode
            metadata:
              name: gpu-b
              labels: {pool: e2e}
            spec:
              image: comfyui:test
              labels: {gpu: sim}
            ---
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata:
              name: painter
            spec:
              preset: sd15
              nodeSelector: {pool: e2e, gpu: sim}
              limits: {maxPending: 100}
            """);
        await _env.KubectlOkAsync("apply", "-n", ns, "-f", path);
        foreach (var node in new[] { "gpu-a", "gpu-b" })
        {
            await OperatorEnvironment.WaitForAsync(() => _env.JsonPathAsync(ns, $"cn/{node}", "{.status.conditions[?(@.type==\"Ready\")].status}"), s => s == "True", Timeout, $"{node} Ready");
        }

        var endpointA = new Uri(await _env.JsonPathAsync(ns, "cn/gpu-a", "{.status.endpoint}")).Authority;
        var endpointB = new Uri(await _env.JsonPathAsync(ns, "cn/gpu-b", "{.status.endpoint}")).Authority;

        await using var router = KubernetesRouter.Create(_env, ns, new Dictionary<string, string>
        {
            ["Router:ProbeInterval"] = "00:00:00.200",
            ["Router:PendingLimit"] = "1000",
        });
        using var client = KubernetesRouter.CreateClient(router);

        await OperatorEnvironment.WaitForAsync(() => ReadyAsync(client), r => r == 2, Timeout, "painter served by 2 ready workers");
        var workflow = await client.GetFromJsonAsync<JsonElement>("/v1/workflows/painter");
        Assert.Equal("kubernetes", workflow.GetProperty("source").GetString());

        var first = await RunAsync(client, 8);
        // Both nodes served runs (pod addresses follow creation order, not node names: compare as sets).
        Assert.Equal(new[] { endpointA, endpointB }.Order(StringComparer.Ordinal), first.Distinct().Order(StringComparer.Ordinal));

        await _env.KubectlOkAsync("delete", "cn/gpu-a", "-n", ns, "--wait=false");
        await OperatorEnvironment.WaitForAsync(() => ReadyAsync(client), r => r == 1, Timeout, "painter down to 1 worker");

        var after = await RunAsync(client, 6);
        Assert.All(after, worker => Assert.Equal(endpointB, worker));
    }

    private static async Task<int> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/v1/workflows/painter");
        return response.StatusCode == HttpStatusCode.OK
            ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("readiness").GetProperty("ready").GetInt32()
            : -1;
    }

    /// <summary>Submits runs of the workflow, waits for them all, returns the worker (host:port) each ran on.</summary>
    private static async Task<List<string>> RunAsync(HttpClient client, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.PostAsJsonAsync("/v1/workflows/painter/runs", new { prompt = $"a painting {i}", steps = 2, width = 64, height = 64, seed = i });
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
            ids.Add(JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!);
        }

        var workers = new List<string>();
        foreach (var id in ids)
        {
            var run = await OperatorEnvironment.WaitForAsync(
                () => client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}"),
                r => r.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled",
                Timeout,
                $"run {id} to finish");
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
            workers.Add(new Uri(run.GetProperty("worker").GetString()!).Authority);
        }

        return workers;
    }
}
