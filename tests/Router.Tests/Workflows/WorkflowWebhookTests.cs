using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Tests.Webhooks;
using ComfyOperator.Router.Workflows;

namespace ComfyOperator.Router.Tests.Workflows;

/// <summary>Webhooks on workflow runs: the run's own (query parameters) or the workflow's default (annotation).</summary>
public sealed class WorkflowWebhookTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private readonly string _dir = Directory.CreateTempSubdirectory("wf-hooks-").FullName;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SubmitAsync_QueryWebhookOrWorkflowDefault_DeliversTheRunsEvents()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "hooked.yaml"), $"""
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata:
              name: hooked
              annotations:
                comfyoperator.io/webhook: "{_receiver.Url}"
                comfyoperator.io/webhook-events: "run.succeeded"
            spec:
              preset: sd15
            """);
        await using var cluster = await WorkflowCluster.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Router:WorkflowsDirectory"] = _dir,
            ["Router:Webhooks:Secret"] = Secret,
            ["Router:Webhooks:PollInterval"] = "00:00:00.100",
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
        });
        await WorkflowCluster.WaitReadyAsync(cluster.Client, "hooked");
        var inputs = new { prompt = "a lake", steps = 2, width = 64, height = 64 };

        var byDefault = await SubmitAsync(cluster.Client, "/v1/workflows/hooked/runs", inputs);
        var byQuery = await SubmitAsync(cluster.Client, $"/v1/workflows/sd15/runs?webhook={Uri.EscapeDataString(_receiver.Url)}&webhookEvents=run.started", inputs);
        await cluster.WaitForStatusAsync(byDefault, "succeeded");
        await cluster.WaitForStatusAsync(byQuery, "succeeded");
        await Wait.UntilAsync(() => _receiver.Received.Count >= 2, Deadline, "one webhook per run");

        var received = _receiver.Received.Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(2, received.Count);
        Assert.Contains(received, h => h["type"]!.GetValue<string>() == "run.succeeded" && h["data"]!["id"]!.GetValue<string>() == byDefault);
        Assert.Contains(received, h => h["type"]!.GetValue<string>() == "run.started" && h["data"]!["id"]!.GetValue<string>() == byQuery);
    }

    [Fact]
    public async Task SubmitAsync_BadQueryWebhook_Is400NamingTheField()
    {
        await using var cluster = await WorkflowCluster.StartAsync();
        var inputs = new { prompt = "a lake" };

        foreach (var (query, field) in new[]
        {
            ("webhook=http%3A%2F%2F169.254.169.254%2Fhook", "webhook.url"),
            ("webhook=ftp%3A%2F%2Fexample.com%2Fhook", "webhook.url"),
            ("webhook=https%3A%2F%2Fexample.com%2Fhook&webhookEvents=run.exploded", "webhook.events"),
        })
        {
            using var response = await cluster.Client.PostAsJsonAsync($"/v1/workflows/sd15/runs?{query}", inputs);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }

        Assert.Empty(await cluster.AllRunsAsync());
    }

    [Theory]
    [InlineData("ftp://example.com/hook", "", "comfyoperator.io/webhook")]
    [InlineData("https://example.com/hook", "run.succeeded, run.exploded", "comfyoperator.io/webhook-events")]
    public void ReadFile_BadWebhookAnnotation_IsInvalidNamingTheAnnotation(string url, string events, string annotation)
    {
        var path = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(path, $"""
            apiVersion: comfyoperator.io/v1alpha1
            kind: WorkflowDeployment
            metadata:
              name: bad-hook
              annotations:
                comfyoperator.io/webhook: "{url}"
                comfyoperator.io/webhook-events: "{events}"
            spec:
              preset: sd15
            """);

        var workflow = Assert.Single(WorkflowDirectorySource.ReadFile(path));

        Assert.False(workflow.IsValid);
        Assert.Contains(workflow.Problems, p => p.Contains($"[{annotation}]", StringComparison.Ordinal));
    }

    private static async Task<string> SubmitAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }
}
