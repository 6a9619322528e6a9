using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ComfyOperator.Router.Tests.WebUi;

/// <summary>ComfyUI's web UI through the router: the page and its files from one worker, a browser session, failover.</summary>
public sealed partial class WebUiApiTests
{
    private const string Origin = "http://localhost";

    [GeneratedRegex("name=\"comfyui-server\" content=\"([^\"]+)\"")]
    private static partial Regex ServerMeta();

    private static HttpClient Browser(SimulatedCluster cluster) =>
        cluster.Router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static async Task SignInAsync(HttpClient browser)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = RouterFactory.ApiKey, ["return"] = "/" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/signin") { Content = form };
        request.Headers.Add("Origin", Origin);
        using var response = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    /// <summary>Signs in on <paramref name="router"/> and returns the session cookie (name=value) it set.</summary>
    internal static async Task<string> SessionCookieAsync(RouterFactory router)
    {
        using var browser = router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = RouterFactory.ApiKey, ["return"] = "/" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/signin") { Content = form };
        request.Headers.Add("Origin", Origin);
        using var response = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(BrowserSession.CookieName + "=", StringComparison.Ordinal)).Split(';')[0];
    }

    /// <summary>The status of a GET on <paramref name="router"/> carrying only <paramref name="cookie"/> (or nothing) as credentials.</summary>
    internal static async Task<HttpStatusCode> GetWithCookieAsync(RouterFactory router, string path, string? cookie)
    {
        using var browser = router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        using var response = await browser.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string> ServedByAsync(HttpClient browser)
    {
        var page = await browser.GetStringAsync("/");
        return ServerMeta().Match(page).Groups[1].Value;
    }

    [Fact]
    public async Task GetRoot_WithoutSession_RedirectsToSignInAndFilesNeedCredentials()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var browser = Browser(cluster);

        using var root = await browser.GetAsync("/");
        using var script = await browser.GetAsync("/scripts/app.js");
        using var signIn = await browser.GetAsync("/signin");

        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/signin", root.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, script.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Contains("API key", await signIn.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_ApiKey_PageAssetsAndExtensionsComeFromOneWorkerAsPrivateFiles()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2);
        using var browser = Browser(cluster);
        await SignInAsync(browser);

        using var page = await browser.GetAsync("/");
        var html = await page.Content.ReadAsStringAsync();
        var server = ServerMeta().Match(html).Groups[1].Value;
        using var style = await browser.GetAsync("/assets/standin.css");
        var extensions = JsonNode.Parse(await browser.GetStringAsync("/api/extensions"))!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        using var extension = await browser.GetAsync(extensions.Single());

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(server, cluster.Workers.Select(w => w.BaseAddress.Authority));
        Assert.Equal("no-cache, private", string.Join(", ", page.Headers.CacheControl!.ToString().Split(", ").Order(StringComparer.Ordinal)));
        Assert.True(style.Headers.CacheControl!.Private && !style.Headers.CacheControl.Public, $"style Cache-Control {style.Headers.CacheControl}");
        Assert.Equal(HttpStatusCode.OK, extension.StatusCode);
        Assert.Contains("standin/hello.js loaded", await extension.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(server, await ServedByAsync(browser));
        }
    }

    [Fact]
    public async Task GetRoot_TokenQuery_SignsTheBrowserInWithoutTheTokenInTheAddress()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var browser = Browser(cluster);

        using var exchange = await browser.GetAsync($"/?token={RouterFactory.ApiKey}");
        using var page = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, exchange.StatusCode);
        Assert.Equal("/", exchange.Headers.Location?.OriginalString);
        Assert.Contains(exchange.Headers.GetValues("Set-Cookie"), c => c.Contains("httponly", StringComparison.OrdinalIgnoreCase) && c.Contains("samesite=strict", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Session_RouterRestarts_CookieStillAcceptedKeyRingInTheDatabaseNotOnDisk()
    {
        var logs = new CapturedLogs();
        await using var cluster = await SimulatedCluster.StartAsync(1, services: s => s.AddSingleton<ILoggerProvider>(logs));
        var cookie = await SessionCookieAsync(cluster.Router);
        Assert.Equal(HttpStatusCode.OK, await GetWithCookieAsync(cluster.Router, "/api/settings", cookie));

        await cluster.RestartRouterAsync();

        Assert.Equal(HttpStatusCode.OK, await GetWithCookieAsync(cluster.Router, "/api/settings", cookie));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetWithCookieAsync(cluster.Router, "/api/settings", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetWithCookieAsync(cluster.Router, "/api/settings", cookie[..^4] + "AAAA"));
        Assert.False(Directory.Exists(Path.Combine(cluster.DataDirectory, "keys")), "no key ring beside the database");
        Assert.Contains(logs.Entries, e => e.Category.StartsWith("ComfyOperator.Router", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("XML encryptor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Session_ChangingRequestFromAnotherOrigin_Refused()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var browser = Browser(cluster);
        await SignInAsync(browser);
        var prompt = new JsonObject { ["prompt"] = Graphs.Sd15(steps: 1), ["client_id"] = "page" }.ToJsonString();

        using var foreign = new HttpRequestMessage(HttpMethod.Post, "/api/prompt") { Content = new StringContent(prompt) };
        foreign.Headers.Add("Origin", "http://evil.example");
        using var refused = await browser.SendAsync(foreign);
        using var own = new HttpRequestMessage(HttpMethod.Post, "/api/prompt") { Content = new StringContent(prompt) };
        own.Headers.Add("Origin", Origin);
        using var accepted = await browser.SendAsync(own);
        using var read = await browser.GetAsync("/api/object_info");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var promptId = JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!["prompt_id"]!.GetValue<string>();
        var run = await cluster.GetRunAsync(promptId);
        Assert.Equal(ComfyOperator.Router.Api.RunOwner.KeyId(RouterFactory.ApiKey), run.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task SignIn_WrongKey_PageSaysWhyAndNoSession()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var browser = Browser(cluster);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = "not-a-key" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/signin") { Content = form };
        request.Headers.Add("Origin", Origin);

        using var response = await browser.SendAsync(request);
        using var root = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Invalid API key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
    }

    [Fact]
    public async Task FrontEnd_WorkerGoes_NextHealthyWorkerServesAndStaysWhenTheFirstReturns()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2);
        using var browser = Browser(cluster);
        await SignInAsync(browser);
        var first = await ServedByAsync(browser);
        var gone = cluster.Workers.Single(w => w.BaseAddress.Authority == first);

        gone.Die();
        await Wait.UntilAsync(async () => await ServedByAsync(browser) is { Length: > 0 } s && s != first, TimeSpan.FromSeconds(30), "the other worker serves the page");
        var second = await ServedByAsync(browser);
        gone.Revive();
        await cluster.WaitForHealthyWorkersAsync(2);

        Assert.NotEqual(first, second);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(second, await ServedByAsync(browser));
        }
    }

    [Fact]
    public async Task FrontEnd_ConditionalRequest_WorkersNotModifiedPassesThrough()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var browser = Browser(cluster);
        await SignInAsync(browser);
        using var first = await browser.GetAsync("/scripts/app.js");

        using var again = new HttpRequestMessage(HttpMethod.Get, "/scripts/app.js");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await browser.SendAsync(again);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/javascript", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task FrontEnd_RoutersOwnUnknownAddress_StaysA404Problem()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var browser = Browser(cluster);
        await SignInAsync(browser);

        using var response = await browser.GetAsync("/v1/nothing-here");
        using var missing = await browser.GetAsync("/extensions/none/missing.js");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Anonymous_ComfyApiOpen_PageServedWithoutSignIn()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:ComfyApiAnonymous"] = "true" });
        using var browser = Browser(cluster);

        using var page = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(page.Headers.CacheControl);
    }
}
