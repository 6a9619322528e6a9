using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using ComfyOperator.Router.Tests.Inputs;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>Adding, cordoning and removing workers through <c>/v1/nodes</c> with real simulators.</summary>
public sealed class NodesApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private SimulatedCluster _cluster = null!;
    private ComfyUiSimulator _extra = null!;

    public async Task InitializeAsync()
    {
        _cluster = await SimulatedCluster.StartAsync(1);
        _extra = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(150) });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _extra.DisposeAsync();
    }

    [Fact]
    public async Task Post_Simulator_Returns201AndTheWorkerBecomesIdle()
    {
        using var response = await _cluster.Client.PostAsJsonAsync("/v1/nodes", new { url = _extra.BaseAddress.ToString(), labels = new { gpu = "4090" }, maxQueue = 2 });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var node = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(_extra.BaseAddress.ToString(), node.GetProperty("address").GetString());
        Assert.Equal("api", node.GetProperty("source").GetString());
        Assert.Equal("4090", node.GetProperty("labels").GetProperty("gpu").GetString());
        Assert.Equal(2, node.GetProperty("maxQueue").GetInt32());
        Assert.False(node.GetProperty("readOnly").GetBoolean());
        Assert.Equal($"/v1/nodes/{node.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
        await WaitForPhaseAsync(_extra.BaseAddress, "Idle");
    }

    [Theory]
    [InlineData("ftp://gpu-1:8188")]
    [InlineData("not a url")]
    [InlineData("http://gpu-[1-4]:8188")]
    [InlineData("http://gpu-1:8188/?x=1")]
    public async Task Post_MalformedUrl_Returns400NamingUrl(string url)
    {
        using var response = await _cluster.Client.PostAsJsonAsync("/v1/nodes", new { url });

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request", "url");
    }

    [Fact]
    public async Task Post_AddressThatDoesNotAnswer_Returns400UnlessProbeIsOff()
    {
        var closed = ClosedPortAddress();

        using var refused = await _cluster.Client.PostAsJsonAsync("/v1/nodes", new { url = closed });
        await AssertProblemAsync(refused, HttpStatusCode.BadRequest, "node-not-comfyui", "url");
        Assert.DoesNotContain(await ListAsync(), n => n.GetProperty("address").GetString() == closed);

        using var added = await _cluster.Client.PostAsJsonAsync("/v1/nodes?probe=false", new { url = closed });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        await WaitForPhaseAsync(new Uri(closed), "Offline");
    }

    [Fact]
    public async Task Post_AddressThatIsNotComfyUi_Returns400()
    {
        // A web server, but /system_stats is not there.
        await using var server = await TestFileServer.StartAsync();

        using var response = await _cluster.Client.PostAsJsonAsync("/v1/nodes", new { url = server.BaseAddress.ToString() });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "node-not-comfyui", "url");
        Assert.Contains("HTTP 404", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostAndDelete_ConfiguredWorker_Returns409ReadOnly()
    {
        var configured = (await ListAsync()).Single();

        using var again = await _cluster.Client.PostAsJsonAsync("/v1/nodes", new { url = configured.GetProperty("address").GetString() });
        await AssertProblemAsync(again, HttpStatusCode.Conflict, "node-exists", "url");

        using var delete = await _cluster.Client.DeleteAsync($"/v1/nodes/{configured.GetProperty("id").GetString()}");
        var problem = await AssertProblemAsync(delete, HttpStatusCode.Conflict, "node-read-only", "id");
        Assert.Contains("COMFY_ROUTER__NODES", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True((await ListAsync()).Single().GetProperty("readOnly").GetBoolean());
    }

    [Fact]
    public async Task Delete_UnknownId_Returns404()
    {
        using var response = await _cluster.Client.DeleteAsync("/v1/nodes/000000000000");

        await AssertProblemAsync(response, HttpStatusCode.NotFound, "node-not-found", "id");
    }

    [Fact]
    public async Task Restart_AddedAndCordonedWorker_IsBackCordoned()
    {
        var id = await AddAsync(_extra);
        using (var cordon = await _cluster.Client.PatchAsJsonAsync($"/v1/nodes/{id}", new { cordoned = true }))
        {
            Assert.Equal(HttpStatusCode.OK, cordon.StatusCode);
            Assert.True((await cordon.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cordoned").GetBoolean());
        }

        await _cluster.RestartRouterAsync();

        await WaitForPhaseAsync(_extra.BaseAddress, "Idle");
        var node = (await ListAsync()).Single(n => n.GetProperty("id").GetString() == id);
        Assert.Equal("api", node.GetProperty("source").GetString());
        Assert.True(node.GetProperty("cordoned").GetBoolean());
        Assert.False(node.GetProperty("eligible").GetBoolean());
    }

    [Fact]
    public async Task Delete_WorkerWithARun_DrainsItThenRemovesIt()
    {
        var configuredId = (await ListAsync()).Single().GetProperty("id").GetString();
        using (var cordon = await _cluster.Client.PatchAsJsonAsync($"/v1/nodes/{configuredId}", new { cordoned = true }))
        {
            Assert.Equal(HttpStatusCode.OK, cordon.StatusCode);
        }

        var id = await AddAsync(_extra);
        await WaitForPhaseAsync(_extra.BaseAddress, "Idle");
        var first = await _cluster.SubmitAsync(steps: 20);
        await _cluster.WaitForStatusAsync(first, "running");

        using (var delete = await _cluster.Client.DeleteAsync($"/v1/nodes/{id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
            var draining = await delete.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(draining.GetProperty("draining").GetBoolean());
        }

        var second = await _cluster.SubmitAsync(steps: 1);
        await _cluster.WaitForStatusAsync(first, "succeeded");
        await Wait.UntilAsync(async () => (await ListAsync()).All(n => n.GetProperty("id").GetString() != id), Deadline, "the drained worker to be removed");
        Assert.Equal("queued", (await _cluster.GetRunAsync(second)).GetProperty("status").GetString());

        using (var uncordon = await _cluster.Client.PatchAsJsonAsync($"/v1/nodes/{configuredId}", new { cordoned = false }))
        {
            Assert.Equal(HttpStatusCode.OK, uncordon.StatusCode);
        }

        var done = await _cluster.WaitForStatusAsync(second, "succeeded");
        Assert.Equal(_cluster.Workers[0].BaseAddress.ToString(), done.GetProperty("worker").GetString());
    }

    [Fact]
    public async Task Delete_Force_RemovesAtOnceAndStaysRemovedAfterRestart()
    {
        var id = await AddAsync(_extra);

        using (var delete = await _cluster.Client.DeleteAsync($"/v1/nodes/{id}?force=true"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.DoesNotContain(await ListAsync(), n => n.GetProperty("id").GetString() == id);
        await _cluster.RestartRouterAsync();
        Assert.DoesNotContain(await ListAsync(), n => n.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task Get_FilterAndPage_ReturnsTheMatchingSliceAndTotal()
    {
        await AddAsync(_extra);

        using var response = await _cluster.Client.GetAsync("/v1/nodes?source=api&limit=1&offset=0");
        var page = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("1", response.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(_extra.BaseAddress.ToString(), page.EnumerateArray().Single().GetProperty("address").GetString());
        Assert.Empty((await _cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes?q=no-such-host")).EnumerateArray());
        using var bad = await _cluster.Client.GetAsync("/v1/nodes?limit=0");
        await AssertProblemAsync(bad, HttpStatusCode.BadRequest, "invalid-request", "limit");
    }

    [Fact]
    public async Task Post_KeyWithoutAdmin_Returns403()
    {
        using var created = await _cluster.Client.PostAsJsonAsync("/v1/keys", new { name = "renderer" });
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString();
        using var client = _cluster.Router.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);

        using var response = await client.PostAsJsonAsync("/v1/nodes", new { url = _extra.BaseAddress.ToString() });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/nodes")).StatusCode);
    }

    private async Task<string> AddAsync(ComfyUiSimulator worker)
    {
        using var response = await _cluster.Client.PostAsJsonAsync("/v1/nodes", new { url = worker.BaseAddress.ToString() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private async Task<List<JsonElement>> ListAsync() =>
        [.. (await _cluster.Client.GetFromJsonAsync<JsonElement>("/v1/nodes")).EnumerateArray()];

    private Task WaitForPhaseAsync(Uri address, string phase) =>
        Wait.UntilAsync(
            async () => (await ListAsync()).Any(n => n.GetProperty("address").GetString() == address.ToString() && n.GetProperty("phase").GetString() == phase),
            Deadline,
            $"{address} to be {phase}");

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type, string field)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://comfyoperator.io/problems/" + type, problem.GetProperty("type").GetString());
        Assert.Equal(field, problem.GetProperty("field").GetString());
        return problem;
    }

    /// <summary>An address nothing listens on: a port the system handed out and that was closed again.</summary>
    private static string ClosedPortAddress()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/";
    }
}
