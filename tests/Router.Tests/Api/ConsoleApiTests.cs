using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ComfyOperator.Router.Tests.Api;

/// <summary>How the router serves the web console's files, and the API details the console relies on.</summary>
public sealed class ConsoleApiTests : IClassFixture<ConsoleApiTests.Fixture>
{
    private readonly Fixture _fixture;

    public ConsoleApiTests(Fixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("/")]
    [InlineData("/admin")]
    [InlineData("/console")]
    public async Task Get_EntryAddress_RedirectsToTheConsoleWithoutCredentials(string path)
    {
        using var client = _fixture.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/console/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Get_ConsolePage_ServedWithoutCredentialsAndAllowsOnlyTheRouter()
    {
        using var client = _fixture.Factory.CreateClient();

        using var page = await client.GetAsync("/console/");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("/console/console.js", html, StringComparison.Ordinal);
        foreach (var asset in (string[])["/console/", "/console/console.css", "/console/console.js"])
        {
            var text = await client.GetStringAsync(asset);
            Assert.DoesNotMatch("(src|href|url)\\s*[=(]\\s*[\"']?https?:", text);
            Assert.DoesNotContain("@import", text, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console/missing.js")).StatusCode);
    }

    [Fact]
    public async Task Get_ScriptRequestWithoutCredentials_401WithoutBasicChallenge()
    {
        using var client = _fixture.Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Requested-With", "XMLHttpRequest");

        using var response = await client.GetAsync("/v1/nodes");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(["Bearer"], response.Headers.WwwAuthenticate.Select(h => h.Scheme));
    }

    [Fact]
    public async Task Rerun_FinishedRun_NewRunOfTheSameGraphAndPriority()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var submitted = await cluster.Client.PostAsJsonAsync("/v1/runs", new { workflow = Graphs.Sd15("a lighthouse", 2, 7), priority = 5 });
        var first = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await cluster.WaitForStatusAsync(first, "succeeded");

        using var rerun = await cluster.Client.PostAsync($"/v1/runs/{first}/rerun", null);

        Assert.Equal(HttpStatusCode.Accepted, rerun.StatusCode);
        var second = await rerun.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(first, second.GetProperty("id").GetString());
        Assert.Equal(5, second.GetProperty("priority").GetInt32());
        var done = await cluster.WaitForStatusAsync(second.GetProperty("id").GetString()!, "succeeded");
        Assert.Single(done.GetProperty("outputs").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Client.PostAsync("/v1/runs/no-such-run/rerun", null)).StatusCode);
    }

    public sealed class Fixture : IDisposable
    {
        public RouterFactory Factory { get; } = new();

        public void Dispose() => Factory.Dispose();
    }
}
