using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>The runs API without any worker: runs stay queued, which is what these tests need.</summary>
public sealed class RunsApiTests : IClassFixture<RunsApiTests.Fixture>
{
    private readonly HttpClient _client;

    public RunsApiTests(Fixture fixture) => _client = fixture.Client;

    [Fact]
    public async Task Submit_ApiGraph_Returns202WithQueuedRunAndLinks()
    {
        using var response = await _client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(), priority: 3));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = run.GetProperty("id").GetString();
        Assert.Equal("queued", run.GetProperty("status").GetString());
        Assert.Equal(3, run.GetProperty("priority").GetInt32());
        Assert.Equal($"/v1/runs/{id}", run.GetProperty("links").GetProperty("self").GetString());
        Assert.Equal($"/v1/runs/{id}/events", run.GetProperty("links").GetProperty("events").GetString());
        Assert.Equal($"/v1/runs/{id}", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task Submit_UiFormatWorkflow_Returns400SayingSo()
    {
        var ui = JsonNode.Parse("""{"last_node_id": 9, "last_link_id": 9, "nodes": [{"id": 3, "type": "KSampler"}], "links": [], "version": 0.4}""")!;

        var problem = await ProblemAsync(await _client.PostAsJsonAsync("/v1/runs", Graphs.Body(ui)), HttpStatusCode.BadRequest);

        Assert.Equal("https://comfyoperator.io/problems/ui-format-workflow", problem.GetProperty("type").GetString());
        Assert.Contains("Export (API)", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("workflow", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Submit_BrokenLink_Returns400NamingNodeAndInput()
    {
        var graph = Graphs.Sd15();
        graph["3"]!["inputs"]!["latent_image"] = new JsonArray("55", 0);

        var problem = await ProblemAsync(await _client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph)), HttpStatusCode.BadRequest);

        Assert.Equal("https://comfyoperator.io/problems/invalid-workflow", problem.GetProperty("type").GetString());
        Assert.Equal("workflow.3.inputs.latent_image", problem.GetProperty("field").GetString());
        Assert.Equal("3", problem.GetProperty("node").GetString());
        Assert.Contains("#55", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"workflow": {"1": {"inputs": {}}}}""", "workflow.1.class_type")]
    [InlineData("""{"workflow": []}""", "workflow")]
    [InlineData("""{"workflow": {}}""", "workflow")]
    [InlineData("""{"priority": 1}""", "workflow")]
    [InlineData("""{"workflow": {"1": {"class_type": "SaveImage", "inputs": {}}}, "priority": "high"}""", "priority")]
    [InlineData("""{"workflow": {"1": {"class_type": "SaveImage", "inputs": {}}}, "metadata": [1]}""", "metadata")]
    [InlineData("""{"workflow": {"1": {"class_type": "SaveImage", "inputs": {"images": [2, 0]}}}}""", "workflow.1.inputs.images")]
    public async Task Submit_BadBody_Returns400NamingTheField(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        var problem = await ProblemAsync(await _client.PostAsync("/v1/runs", content), HttpStatusCode.BadRequest);

        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Submit_MalformedJson_Returns400NotServerError()
    {
        using var content = new StringContent("""{"workflow": {"1": """, Encoding.UTF8, "application/json");

        var problem = await ProblemAsync(await _client.PostAsync("/v1/runs", content), HttpStatusCode.BadRequest);

        Assert.Equal("https://comfyoperator.io/problems/malformed-json", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Submit_SameIdempotencyKey_ReturnsOriginalRun()
    {
        var key = Guid.NewGuid().ToString();
        using var first = await _client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(), key));
        using var second = await _client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15("something else"), key));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(
            (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(),
            (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Submit_IdempotencyKeyHeader_ReturnsOriginalRun()
    {
        var key = Guid.NewGuid().ToString();
        var ids = new List<string?>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(Graphs.Body(Graphs.Sd15())) };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await _client.SendAsync(request);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        }

        Assert.Equal(ids[0], ids[1]);
    }

    [Fact]
    public async Task Get_UnknownRun_Returns404Problem()
    {
        var problem = await ProblemAsync(await _client.GetAsync("/v1/runs/no-such-run"), HttpStatusCode.NotFound);

        Assert.Equal("https://comfyoperator.io/problems/run-not-found", problem.GetProperty("type").GetString());
        Assert.Contains("no-such-run", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DELETE", "/v1/runs/missing")]
    [InlineData("GET", "/v1/runs/missing/events")]
    [InlineData("GET", "/v1/runs/missing/outputs/a.png")]
    public async Task UnknownRun_AnyEndpoint_Returns404(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        await ProblemAsync(await _client.SendAsync(request), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_UnknownRoute_Returns404Problem()
    {
        var problem = await ProblemAsync(await _client.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound);

        Assert.Equal("https://comfyoperator.io/problems/not-found", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task List_BadCursorOrStatus_Returns400()
    {
        Assert.Equal("cursor", (await ProblemAsync(await _client.GetAsync("/v1/runs?cursor=garbage"), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("status", (await ProblemAsync(await _client.GetAsync("/v1/runs?status=sleeping"), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("limit", (await ProblemAsync(await _client.GetAsync("/v1/runs?limit=0"), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task List_WorkflowAndKeyFilters_AreAppliedByTheServer()
    {
        var id = await SubmitAsync(_client);
        var owner = (await _client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("owner").GetString();
        async Task<List<string?>> Ids(string query) =>
            [.. (await _client.GetFromJsonAsync<JsonElement>("/v1/runs?limit=100&" + query)).GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString())];

        Assert.Contains(id, await Ids("key=" + Uri.EscapeDataString(owner!)));
        Assert.DoesNotContain(id, await Ids("key=user-nobody"));
        Assert.DoesNotContain(id, await Ids("workflow=sd15"));
    }

    [Fact]
    public async Task Delete_QueuedRun_CancelsItAndSecondDeleteConflicts()
    {
        var id = await SubmitAsync(_client);

        using var cancel = await _client.DeleteAsync($"/v1/runs/{id}");
        var run = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        var again = await ProblemAsync(await _client.DeleteAsync($"/v1/runs/{id}"), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", run.GetProperty("status").GetString());
        Assert.NotNull(run.GetProperty("finishedAt").GetString());
        Assert.Equal("https://comfyoperator.io/problems/run-already-finished", again.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Events_LiveSubscriber_GetsStateFirstThenEventsInOrder()
    {
        var id = await SubmitAsync(_client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var sse = new SseClient(await response.Content.ReadAsStreamAsync(timeout.Token));

        var state = await sse.NextAsync(timeout.Token);
        await _client.DeleteAsync($"/v1/runs/{id}", timeout.Token);
        var rest = await sse.ReadToEndAsync(timeout.Token);

        Assert.Equal("state", state?.Type);
        Assert.Equal("1", state?.Id);
        Assert.Equal("queued", JsonDocument.Parse(state!.Data).RootElement.GetProperty("status").GetString());
        var cancelled = Assert.Single(rest);
        Assert.Equal(("cancelled", "2"), (cancelled.Type, cancelled.Id));
    }

    [Fact]
    public async Task Events_LastEventId_ResumesAfterThatEvent()
    {
        var id = await SubmitAsync(_client);
        await _client.DeleteAsync($"/v1/runs/{id}");

        var all = await ReadEventsAsync(id, "0");
        var afterFirst = await ReadEventsAsync(id, "1");
        var finished = await ReadEventsAsync(id, null);

        Assert.Equal(["queued", "cancelled"], all.Select(e => e.Type));
        Assert.Equal(["1", "2"], all.Select(e => e.Id));
        Assert.Equal(["cancelled"], afterFirst.Select(e => e.Type));
        Assert.Equal(["state"], finished.Select(e => e.Type));
    }

    internal static async Task<string> SubmitAsync(HttpClient client, string text = "a lighthouse")
    {
        using var response = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(text)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"Expected {expected}, got {response.StatusCode}: {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(text).RootElement.Clone();
            Assert.StartsWith("https://comfyoperator.io/problems/", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
            return problem;
        }
    }

    private async Task<List<SseMessage>> ReadEventsAsync(string id, string? lastEventId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var sse = new SseClient(await response.Content.ReadAsStreamAsync(timeout.Token));
        return await sse.ReadToEndAsync(timeout.Token);
    }

    public sealed class Fixture : IDisposable
    {
        public Fixture()
        {
            Factory = new RouterFactory(new Dictionary<string, string?> { ["Router:PendingLimit"] = "10000" });
            Client = Factory.CreateAuthorizedClient();
        }

        public RouterFactory Factory { get; }

        public HttpClient Client { get; }

        public void Dispose()
        {
            Client.Dispose();
            Factory.Dispose();
        }
    }
}
