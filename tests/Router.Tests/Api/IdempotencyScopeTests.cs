using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>Idempotency keys belong to the caller: two API keys (or a key and a Basic user) that pick the same key get their own runs.</summary>
public sealed class IdempotencyScopeTests : IClassFixture<IdempotencyScopeTests.Fixture>
{
    private const string OtherKey = "other-key-9876543210";

    private readonly Fixture _fixture;

    public IdempotencyScopeTests(Fixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Submit_SameKeyFromTwoApiKeysAndAUser_EachCallerGetsOwnRun()
    {
        var key = Guid.NewGuid().ToString();
        using var first = Client(RouterFactory.ApiKey);
        using var other = Client(OtherKey);
        using var user = BasicClient();

        var (firstStatus, firstId) = await SubmitAsync(first, key, "a lighthouse");
        var (otherStatus, otherId) = await SubmitAsync(other, key, "a windmill");
        var (userStatus, userId) = await SubmitAsync(user, key, "a harbour");
        var (againStatus, againId) = await SubmitAsync(first, key, "anything");
        var (otherAgainStatus, otherAgainId) = await SubmitAsync(other, key, "anything");

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted), (firstStatus, otherStatus, userStatus));
        Assert.Equal(3, new[] { firstId, otherId, userId }.Distinct().Count());
        Assert.Equal((HttpStatusCode.OK, firstId), (againStatus, againId));
        Assert.Equal((HttpStatusCode.OK, otherId), (otherAgainStatus, otherAgainId));
        var stored = await StoredWithKeyAsync(key);
        Assert.Equal(3, stored.Count);
        Assert.Equal("a windmill", PromptOf(stored.Single(r => r.Id == otherId)));
        Assert.Equal(RunOwner.KeyId(OtherKey), stored.Single(r => r.Id == otherId).Owner);
        Assert.Equal("user-admin", stored.Single(r => r.Id == userId).Owner);

        // Reading a run by id is not scoped by owner (as before): only the key lookup is.
        using var read = await other.GetAsync($"/v1/runs/{firstId}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(firstId, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Submit_ConcurrentSameKeyFromTwoApiKeys_ExactlyOneRunPerKey()
    {
        var key = Guid.NewGuid().ToString();
        using var first = Client(RouterFactory.ApiKey);
        using var other = Client(OtherKey);

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => SubmitAsync(i % 2 == 0 ? first : other, key, $"prompt {i}")));

        Assert.Equal(2, results.Count(r => r.Status == HttpStatusCode.Accepted));
        Assert.Equal(14, results.Count(r => r.Status == HttpStatusCode.OK));
        var firstIds = results.Where((_, i) => i % 2 == 0).Select(r => r.Id).Distinct().ToList();
        var otherIds = results.Where((_, i) => i % 2 == 1).Select(r => r.Id).Distinct().ToList();
        Assert.Single(firstIds);
        Assert.Single(otherIds);
        Assert.NotEqual(firstIds[0], otherIds[0]);
        Assert.Equal(2, (await StoredWithKeyAsync(key)).Count);
    }

    [Fact]
    public async Task SubmitWorkflow_SameIdempotencyKeyHeaderFromTwoApiKeys_EachCallerGetsOwnRun()
    {
        var key = Guid.NewGuid().ToString();
        using var first = Client(RouterFactory.ApiKey);
        using var other = Client(OtherKey);

        var (firstStatus, firstId) = await SubmitWorkflowAsync(first, key);
        var (otherStatus, otherId) = await SubmitWorkflowAsync(other, key);
        var (againStatus, againId) = await SubmitWorkflowAsync(first, key);

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (firstStatus, otherStatus));
        Assert.NotEqual(firstId, otherId);
        Assert.Equal((HttpStatusCode.OK, firstId), (againStatus, againId));
        Assert.Equal(2, (await StoredWithKeyAsync(key)).Count);
    }

    private static string? PromptOf(RunRecord run) =>
        JsonDocument.Parse(run.Workflow).RootElement.GetProperty("6").GetProperty("inputs").GetProperty("text").GetString();

    private static async Task<(HttpStatusCode Status, string Id)> SubmitAsync(HttpClient client, string key, string prompt)
    {
        using var response = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15(prompt), key));
        return await ReadAsync(response);
    }

    private static async Task<(HttpStatusCode Status, string Id)> SubmitWorkflowAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/workflows/sd15/runs") { Content = JsonContent.Create(new { prompt = "a red fox" }) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        return await ReadAsync(response);
    }

    private static async Task<(HttpStatusCode Status, string Id)> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!);
    }

    private async Task<List<RunRecord>> StoredWithKeyAsync(string key)
    {
        var page = await _fixture.Factory.Services.GetRequiredService<IRunStore>().ListAsync(RunQuery.All, 1000, null, CancellationToken.None);
        Assert.Null(page.NextBefore);
        return [.. page.Runs.Where(r => r.IdempotencyKey == key)];
    }

    private HttpClient Client(string apiKey)
    {
        var client = _fixture.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    private HttpClient BasicClient()
    {
        var client = _fixture.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:s3cret")));
        return client;
    }

    public sealed class Fixture : IDisposable
    {
        public Fixture()
        {
            Factory = new RouterFactory(new Dictionary<string, string?>
            {
                ["Router:ApiKeys:1"] = OtherKey,
                ["Router:Username"] = "admin",
                ["Router:Password"] = "s3cret",
                ["Router:PendingLimit"] = "10000",

                // No workers here: workflow runs wait in the queue instead of being refused.
                ["Router:QueueWhenUnavailable"] = "true",
            });
        }

        public RouterFactory Factory { get; }

        public void Dispose() => Factory.Dispose();
    }
}
