using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>Creating, using and revoking API keys through <c>/v1/keys</c>, and the usage report.</summary>
public sealed class KeysApiTests : IAsyncLifetime
{
    private SimulatedCluster _cluster = null!;

    /// <summary>Each sampler step takes this long on the worker, so a run's time there is at least its steps' (never 0 ms).</summary>
    private static readonly TimeSpan StepDelay = TimeSpan.FromMilliseconds(20);

    public async Task InitializeAsync() => _cluster = await SimulatedCluster.StartAsync(1, o => o.StepDelay = StepDelay);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Create_KeyWorksAtOnceIsListedWithoutItsSecretAndStopsWorkingWhenRevoked()
    {
        var (id, key) = await CreateAsync("ci", admin: false);
        using var client = ClientWith(key);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/v1/keys")).StatusCode);

        var listed = await _cluster.Client.GetStringAsync("/v1/keys");
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        var entry = JsonDocument.Parse(listed).RootElement.EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.Equal("api", entry.GetProperty("source").GetString());
        Assert.Equal("ci", entry.GetProperty("name").GetString());
        Assert.False(entry.GetProperty("admin").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await _cluster.Client.DeleteAsync($"/v1/keys/{id}")).StatusCode);
        using var revoked = await client.GetAsync("/v1/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("revoked", await revoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_AdminKey_MayManageKeys()
    {
        var (_, key) = await CreateAsync("ops", admin: true);
        using var client = ClientWith(key);

        using var response = await client.PostAsJsonAsync("/v1/keys", new { name = "made by ops" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task List_ConfiguredKey_ShownByIdAndReadOnly()
    {
        var keys = await _cluster.Client.GetFromJsonAsync<JsonElement>("/v1/keys");
        var configured = keys.EnumerateArray().Single(k => k.GetProperty("source").GetString() == "config");
        var id = configured.GetProperty("id").GetString();

        Assert.Equal("key-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(RouterFactory.ApiKey)))[..8], id);
        Assert.True(configured.GetProperty("readOnly").GetBoolean());
        using var revoke = await _cluster.Client.DeleteAsync($"/v1/keys/{id}");
        Assert.Equal(HttpStatusCode.Conflict, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Client.DeleteAsync("/v1/keys/key-ffffffff")).StatusCode);
    }

    [Fact]
    public async Task Create_WithoutName_Returns400NamingName()
    {
        using var response = await _cluster.Client.PostAsJsonAsync("/v1/keys", new { admin = true });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("name", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Usage_RunsOfACreatedKey_CountedForThatKeyWithTimeOnWorker()
    {
        var (id, key) = await CreateAsync("renderer", admin: false);
        using var client = ClientWith(key);
        using var submitted = await client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15("a lighthouse", 3, 1)));
        var runId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var run = await _cluster.WaitForStatusAsync(runId, "succeeded");

        var usage = await _cluster.Client.GetFromJsonAsync<JsonElement>("/v1/usage?window=week");

        var mine = usage.GetProperty("byKey").EnumerateArray().Single(k => k.GetProperty("name").GetString() == id);
        Assert.Equal(1, mine.GetProperty("runs").GetInt64());
        Assert.Equal(0, mine.GetProperty("failures").GetInt64());
        // The run's time on its worker as the router recorded it: from hearing it start to its end. The start is
        // heard after the worker sent it (on a loaded machine several milliseconds after), so of the three 20 ms
        // steps at least one lies between them (a run of a simulator without step delays could end in the
        // millisecond it started).
        var gpuSeconds = mine.GetProperty("gpuSeconds").GetDouble();
        var onWorker = (run.GetProperty("finishedAt").GetDateTimeOffset() - run.GetProperty("startedAt").GetDateTimeOffset()).TotalSeconds;
        Assert.Equal(onWorker, gpuSeconds, 0.001);
        Assert.True(gpuSeconds >= StepDelay.TotalSeconds, $"gpuSeconds {gpuSeconds}");
        Assert.Equal(HttpStatusCode.BadRequest, (await _cluster.Client.GetAsync("/v1/usage?window=year")).StatusCode);
    }

    private async Task<(string Id, string Key)> CreateAsync(string name, bool admin)
    {
        using var response = await _cluster.Client.PostAsJsonAsync("/v1/keys", new { name, admin });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!);
    }

    private HttpClient ClientWith(string key)
    {
        var client = _cluster.Router.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
