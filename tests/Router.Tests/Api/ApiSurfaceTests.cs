using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>Parts of the API that had code but no proof: private previews, the node view, readiness and error shapes.</summary>
public sealed class ApiSurfaceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Preview_PrivatePreviewsWithoutCredentials_Returns401()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:PublicPreviews"] = "false" });
        using var authorized = factory.CreateAuthorizedClient();
        using var anonymous = factory.CreateClient();
        var id = await RunsApiTests.SubmitAsync(authorized);

        using var refused = await anonymous.GetAsync($"/v1/runs/{id}/preview");
        var problem = await RunsApiTests.ProblemAsync(await authorized.GetAsync($"/v1/runs/{id}/preview"), HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.NotEmpty(refused.Headers.WwwAuthenticate);
        Assert.Equal("https://comfyoperator.io/problems/preview-not-found", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Preview_PublicPreviewsWithoutCredentials_IsServed()
    {
        using var factory = new RouterFactory();
        using var authorized = factory.CreateAuthorizedClient();
        using var anonymous = factory.CreateClient();
        var id = await RunsApiTests.SubmitAsync(authorized);

        // No preview exists yet: the point is that the request got past authentication.
        var problem = await RunsApiTests.ProblemAsync(await anonymous.GetAsync($"/v1/runs/{id}/preview"), HttpStatusCode.NotFound);

        Assert.Equal("https://comfyoperator.io/problems/preview-not-found", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Nodes_WhileARunRuns_ShowSourceCurrentRunAndGpu()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = TimeSpan.FromMilliseconds(100));
        var id = await cluster.SubmitAsync(steps: 40);
        await cluster.WaitForStatusAsync(id, "running");

        JsonElement node = default;
        await Wait.UntilAsync(async () =>
        {
            node = (await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes"))[0];
            return node.GetProperty("currentRun").GetString() == id;
        }, Timeout, $"/v1/nodes to show run {id} as the current run");
        await cluster.Client.DeleteAsync($"/v1/runs/{id}");

        Assert.Equal(cluster.Workers[0].BaseAddress.ToString(), node.GetProperty("address").GetString());
        Assert.Equal("config", node.GetProperty("source").GetString());
        var gpu = Assert.Single(node.GetProperty("gpus").EnumerateArray());
        Assert.Contains(cluster.Workers[0].Options.GpuName, gpu.GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.Equal(cluster.Workers[0].Options.VramTotal, gpu.GetProperty("vramTotal").GetInt64());
    }

    [Fact]
    public async Task Readyz_WithAWorkerKnown_Returns200Ready()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var anonymous = cluster.Router.CreateClient();

        using var response = await anonymous.GetAsync("/readyz");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", body.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("PUT", "/v1/runs")]
    [InlineData("PATCH", "/v1/nodes")]
    public async Task WrongMethod_KnownRoute_Returns405Problem(string method, string path)
    {
        using var factory = new RouterFactory();
        using var client = factory.CreateAuthorizedClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { }) };

        using var response = await client.SendAsync(request);
        var allow = response.Content.Headers.Allow.Concat(response.Headers.TryGetValues("Allow", out var values) ? values : []).ToList();
        var problem = await RunsApiTests.ProblemAsync(response, HttpStatusCode.MethodNotAllowed);

        Assert.Equal("https://comfyoperator.io/problems/method-not-allowed", problem.GetProperty("type").GetString());
        Assert.NotEmpty(allow);
    }

    [Fact]
    public async Task List_StoreThrows_Returns500ProblemWithoutInternals()
    {
        const string secret = "database file /secret/path/router.db is locked";
        var store = new FaultyRunStore();
        using var factory = new RouterFactory(services: store.Install);
        using var client = factory.CreateAuthorizedClient();
        using (var healthy = await client.GetAsync("/v1/runs"))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        }

        store.Fault = method => method == nameof(IRunStore.ListAsync) ? new InvalidOperationException(secret) : null;
        var problem = await RunsApiTests.ProblemAsync(await client.GetAsync("/v1/runs"), HttpStatusCode.InternalServerError);

        Assert.Equal("https://comfyoperator.io/problems/internal-error", problem.GetProperty("type").GetString());
        Assert.DoesNotContain(secret, problem.ToString(), StringComparison.Ordinal);
    }
}
