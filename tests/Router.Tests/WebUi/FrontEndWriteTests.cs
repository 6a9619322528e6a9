using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ComfyOperator.Router.Tests.WebUi;

/// <summary>
/// Writes to routes the router does not serve (custom nodes' own routes, which their editor extensions
/// call) go through to the front-end worker, with the web UI's credentials, a bounded body and
/// <c>Router:WebUiProxyWrites</c> / <c>Router:WebUiAdminPaths</c> deciding who may.
/// </summary>
public sealed partial class FrontEndWriteTests
{
    private const string Route = "/standin/echo";

    [GeneratedRegex("name=\"comfyui-server\" content=\"([^\"]+)\"")]
    private static partial Regex ServerMeta();

    private static HttpRequestMessage Write(HttpMethod method, string path, string? key, string body = "{\"action\":\"refresh\"}")
    {
        var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Get)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    private static HttpClient Anonymous(SimulatedCluster cluster) =>
        cluster.Router.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    /// <summary>An API key created without <c>admin</c>: a normal user.</summary>
    private static async Task<string> UserKeyAsync(SimulatedCluster cluster)
    {
        using var created = await cluster.Client.PostAsJsonAsync("/v1/keys", new { name = "editor user" });
        created.EnsureSuccessStatusCode();
        return JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
    }

    private static int ExtensionRouteRequests(SimulatedCluster cluster) => cluster.Workers.Sum(w => w.ExtensionRouteRequests);

    /// <summary>The worker that serves the page: the one writes go to.</summary>
    private static async Task<ComfyUiSimulator> FrontEndWorkerAsync(SimulatedCluster cluster)
    {
        var page = await cluster.Client.GetStringAsync("/");
        var authority = ServerMeta().Match(page).Groups[1].Value;
        return cluster.Workers.Single(w => w.BaseAddress.Authority == authority);
    }

    [Fact]
    public async Task Write_CustomNodeRoute_ReachesTheFrontEndWorkerWithoutTheRoutersCredentialsAndItsAnswerComesBack()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2);
        var key = await UserKeyAsync(cluster);
        var frontEnd = await FrontEndWorkerAsync(cluster);
        using var client = Anonymous(cluster);

        using var post = Write(HttpMethod.Post, $"{Route}?mode=fast&token={key}", key, "{\"action\":\"refresh\"}");
        post.Headers.Add("X-Standin", "from the extension");
        post.Headers.Add("Cookie", "other=1");
        using var posted = await client.SendAsync(post);
        using var put = Write(HttpMethod.Put, "/api" + Route, key, "{\"n\":2}");
        using var putAnswer = await client.SendAsync(put);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, Route);
        delete.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var deleted = await client.SendAsync(delete);

        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var echo = JsonNode.Parse(await posted.Content.ReadAsStringAsync())!;
        Assert.Equal("POST", echo["method"]!.GetValue<string>());
        Assert.Equal("{\"action\":\"refresh\"}", echo["body"]!.GetValue<string>());
        Assert.Equal("?mode=fast", echo["query"]!.GetValue<string>());
        Assert.StartsWith("application/json", echo["content_type"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("from the extension", echo["extension_header"]!.GetValue<string>());
        Assert.Equal(frontEnd.BaseAddress.Authority, echo["server"]!.GetValue<string>());
        Assert.False(echo["authorization"]!.GetValue<bool>());
        Assert.False(echo["cookie"]!.GetValue<bool>());
        Assert.False(posted.Headers.Contains("Set-Cookie"));
        Assert.Equal("application/json", posted.Content.Headers.ContentType?.MediaType);
        var echoedPut = JsonNode.Parse(await putAnswer.Content.ReadAsStringAsync())!;
        Assert.Equal(("PUT", "/api" + Route, "{\"n\":2}"), (echoedPut["method"]!.GetValue<string>(), echoedPut["path"]!.GetValue<string>(), echoedPut["body"]!.GetValue<string>()));
        Assert.Equal("DELETE", JsonNode.Parse(await deleted.Content.ReadAsStringAsync())!["method"]!.GetValue<string>());
        Assert.Equal(3, frontEnd.ExtensionRouteRequests);
    }

    [Fact]
    public async Task Write_WithoutCredentials_401AndNothingReachesAWorker()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var client = Anonymous(cluster);

        using var request = Write(HttpMethod.Post, Route, key: null);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, ExtensionRouteRequests(cluster));
    }

    [Fact]
    public async Task Write_SessionCookie_OnlyFromTheRoutersOwnPagesAndWithoutTheOriginForTheWorker()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        var cookie = await WebUiApiTests.SessionCookieAsync(cluster.Router);
        using var client = Anonymous(cluster);

        using var foreign = Write(HttpMethod.Post, Route, key: null);
        foreign.Headers.Add("Cookie", cookie);
        foreign.Headers.Add("Origin", "http://evil.example");
        using var refused = await client.SendAsync(foreign);
        using var noOrigin = Write(HttpMethod.Post, Route, key: null);
        noOrigin.Headers.Add("Cookie", cookie);
        using var refusedWithoutOrigin = await client.SendAsync(noOrigin);
        var before = ExtensionRouteRequests(cluster);
        using var own = Write(HttpMethod.Post, Route, key: null);
        own.Headers.Add("Cookie", cookie);
        own.Headers.Add("Origin", "http://localhost");
        using var accepted = await client.SendAsync(own);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refusedWithoutOrigin.StatusCode);
        Assert.Equal(0, before);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var echo = JsonNode.Parse(await accepted.Content.ReadAsStringAsync())!;
        Assert.False(echo["cookie"]!.GetValue<bool>());
        Assert.False(echo["origin"]!.GetValue<bool>());
        Assert.Equal(1, ExtensionRouteRequests(cluster));
    }

    [Fact]
    public async Task Write_BodyOverTheLimit_413WhetherItsLengthIsSaidOrStreamed()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:WebUiProxyMaxBodyBytes"] = "1024" });
        using var client = Anonymous(cluster);
        var big = new string('x', 4096);

        using var said = Write(HttpMethod.Post, Route, RouterFactory.ApiKey, big);
        using var saidAnswer = await client.SendAsync(said);
        using var streamed = new HttpRequestMessage(HttpMethod.Post, Route) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))) };
        streamed.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RouterFactory.ApiKey);
        streamed.Headers.TransferEncodingChunked = true;
        using var streamedAnswer = await client.SendAsync(streamed);
        using var small = Write(HttpMethod.Post, Route, RouterFactory.ApiKey, new string('y', 1000));
        using var smallAnswer = await client.SendAsync(small);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, saidAnswer.StatusCode);
        Assert.Contains("Router:WebUiProxyMaxBodyBytes", await saidAnswer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamedAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, smallAnswer.StatusCode);
        Assert.Equal(1, ExtensionRouteRequests(cluster));
    }

    [Fact]
    public async Task Write_RoutersOwnPaths_NeverProxied()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        using var client = Anonymous(cluster);

        async Task<HttpResponseMessage> PostAsync(string path)
        {
            using var request = Write(HttpMethod.Post, path, RouterFactory.ApiKey);
            return await client.SendAsync(request);
        }

        using var objectInfo = await PostAsync("/object_info");
        using var apiObjectInfo = await PostAsync("/api/object_info");
        using var history = await PostAsync("/history/some-prompt");
        using var users = await PostAsync("/api/users");
        using var v1 = await PostAsync("/v1/nothing-here");
        using var console = await PostAsync("/console/anything");
        using var metrics = await PostAsync("/metrics");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, objectInfo.StatusCode);
        Assert.Equal("GET", objectInfo.Content.Headers.Allow.Single());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, apiObjectInfo.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, history.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, users.StatusCode);
        Assert.Contains("Each API key or Basic user is its own user", await users.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, v1.StatusCode);
        Assert.Equal("application/problem+json", v1.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, console.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, metrics.StatusCode);
        Assert.Equal(0, ExtensionRouteRequests(cluster));
    }

    [Fact]
    public async Task Write_FrontEndWorkerDown_NextHealthyWorkerThen503()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2);
        var first = await FrontEndWorkerAsync(cluster);
        var second = cluster.Workers.Single(w => w != first);
        using var client = Anonymous(cluster);

        first.Die();
        using var moved = Write(HttpMethod.Post, Route, RouterFactory.ApiKey);
        using var movedAnswer = await client.SendAsync(moved);
        second.Die();
        using var none = Write(HttpMethod.Post, Route, RouterFactory.ApiKey);
        using var noneAnswer = await client.SendAsync(none);

        Assert.Equal(HttpStatusCode.OK, movedAnswer.StatusCode);
        Assert.Equal(second.BaseAddress.Authority, JsonNode.Parse(await movedAnswer.Content.ReadAsStringAsync())!["server"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, noneAnswer.StatusCode);
    }

    [Fact]
    public async Task Write_WorkerAnswersAnError_RelayedWithItsTextAndNotSentToAnotherWorker()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2);
        using var client = Anonymous(cluster);

        using var request = Write(HttpMethod.Post, Route + "?status=500", RouterFactory.ApiKey);
        using var response = await client.SendAsync(request);
        using var notFound = Write(HttpMethod.Post, Route + "?status=404", RouterFactory.ApiKey);
        using var notFoundAnswer = await client.SendAsync(notFound);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("POST", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["method"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, notFoundAnswer.StatusCode);
        Assert.Equal(2, ExtensionRouteRequests(cluster));
    }

    [Fact]
    public async Task Write_WorkerDoesNotAnswerInTime_502AndNotSentToAnotherWorker()
    {
        await using var cluster = await SimulatedCluster.StartAsync(2, settings: new Dictionary<string, string?> { ["Router:WorkerRequestTimeout"] = "00:00:01" });
        using var client = Anonymous(cluster);

        using var request = Write(HttpMethod.Post, Route + "?answer_after_ms=30000", RouterFactory.ApiKey);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, ExtensionRouteRequests(cluster));
    }

    [Fact]
    public async Task Write_AdminsOnly_NormalUser403AdministratorServed()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:WebUiProxyWrites"] = "admins" });
        var key = await UserKeyAsync(cluster);
        using var client = Anonymous(cluster);

        using var user = Write(HttpMethod.Post, Route, key);
        using var userAnswer = await client.SendAsync(user);
        using var read = new HttpRequestMessage(HttpMethod.Get, "/scripts/app.js");
        read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var readAnswer = await client.SendAsync(read);
        using var admin = Write(HttpMethod.Post, Route, RouterFactory.ApiKey);
        using var adminAnswer = await client.SendAsync(admin);

        Assert.Equal(HttpStatusCode.Forbidden, userAnswer.StatusCode);
        Assert.Contains("Router:WebUiProxyWrites", await userAnswer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, readAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminAnswer.StatusCode);
        Assert.Equal(1, ExtensionRouteRequests(cluster));
    }

    [Fact]
    public async Task AdminPaths_NodeManagerRoutes_NormalUser403EvenOnGetAdministratorReachesTheWorker()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1);
        var key = await UserKeyAsync(cluster);
        using var client = Anonymous(cluster);

        async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, string credential)
        {
            using var request = Write(method, path, credential);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/manager/reboot", key));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Post, "/api/customnode/install", key));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Post, "/v2/manager/queue/start", key));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Get, "/manager/reboot", RouterFactory.ApiKey));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Post, "/api/customnode/install", RouterFactory.ApiKey));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Post, Route, key));
    }

    [Fact]
    public async Task Write_ProxyWritesOff_405AsARouteTheRouterDoesNotServe()
    {
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?> { ["Router:WebUiProxyWrites"] = "off" });
        using var client = Anonymous(cluster);

        using var request = Write(HttpMethod.Post, Route, RouterFactory.ApiKey);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(0, ExtensionRouteRequests(cluster));
    }
}
