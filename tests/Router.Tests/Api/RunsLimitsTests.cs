using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Api;

public sealed class RunsLimitsTests
{
    [Fact]
    public async Task Submit_AtPendingLimit_Returns429WithRetryAfter()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:PendingLimit"] = "3" });
        using var client = factory.CreateAuthorizedClient();
        for (var i = 0; i < 3; i++)
        {
            await RunsApiTests.SubmitAsync(client);
        }

        using var response = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15()));
        var retryAfter = response.Headers.RetryAfter;
        var problem = await RunsApiTests.ProblemAsync(response, HttpStatusCode.TooManyRequests);

        Assert.NotNull(retryAfter);
        Assert.Equal("https://comfyoperator.io/problems/pending-limit-reached", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Submit_AfterCancelBelowLimit_IsAcceptedAgain()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:PendingLimit"] = "1" });
        using var client = factory.CreateAuthorizedClient();
        var id = await RunsApiTests.SubmitAsync(client);
        using (var full = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15())))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
        }

        await client.DeleteAsync($"/v1/runs/{id}");

        await RunsApiTests.SubmitAsync(client);
    }

    [Fact]
    public async Task Submit_OversizedBody_Returns413Problem()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:MaxRequestBodyBytes"] = "4096" });
        using var client = factory.CreateAuthorizedClient();
        using var content = new StringContent(JsonSerializer.Serialize(Graphs.Body(Graphs.Sd15(new string('x', 8000)))), Encoding.UTF8, "application/json");

        var problem = await RunsApiTests.ProblemAsync(await client.PostAsync("/v1/runs", content), HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal("https://comfyoperator.io/problems/body-too-large", problem.GetProperty("type").GetString());
        Assert.Contains("4096", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_OversizedChunkedBody_Returns413Problem()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:MaxRequestBodyBytes"] = "4096" });
        using var client = factory.CreateAuthorizedClient();
        var bytes = JsonSerializer.SerializeToUtf8Bytes(Graphs.Body(Graphs.Sd15(new string('x', 8000))));
        using var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new("application/json");

        await RunsApiTests.ProblemAsync(await client.PostAsync("/v1/runs", content), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task List_ManyRuns_PagesNewestFirstWithCursor()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:PendingLimit"] = "100" });
        using var client = factory.CreateAuthorizedClient();
        var submitted = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            submitted.Add(await RunsApiTests.SubmitAsync(client, $"run {i}"));
        }

        var seen = new List<string>();
        string? next = "/v1/runs?limit=3&status=queued";
        var pages = 0;
        while (next is not null)
        {
            var page = await client.GetFromJsonAsync<JsonElement>(next);
            seen.AddRange(page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
            next = page.GetProperty("next").GetString();
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(submitted), seen);
    }

    [Fact]
    public async Task Restart_QueuedAndCancelledRuns_AreStillThere()
    {
        var data = Path.Combine(Path.GetTempPath(), "router-tests", Guid.NewGuid().ToString("N"));
        string queued;
        string cancelled;
        using (var first = new RouterFactory(dataDirectory: data))
        using (var client = first.CreateAuthorizedClient())
        {
            queued = await RunsApiTests.SubmitAsync(client);
            cancelled = await RunsApiTests.SubmitAsync(client);
            await client.DeleteAsync($"/v1/runs/{cancelled}");
        }

        using var second = new RouterFactory(dataDirectory: data);
        using var again = second.CreateAuthorizedClient();

        Assert.Equal("queued", (await again.GetFromJsonAsync<JsonElement>($"/v1/runs/{queued}")).GetProperty("status").GetString());
        Assert.Equal("cancelled", (await again.GetFromJsonAsync<JsonElement>($"/v1/runs/{cancelled}")).GetProperty("status").GetString());
        // The recovered queued run counts against the pending limit and can still be cancelled from the queue.
        using var cancel = await again.DeleteAsync($"/v1/runs/{queued}");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
    }
}
