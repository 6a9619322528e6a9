using System.Net;
using ComfyOperator.Kubernetes.Client;
using ComfyOperator.Kubernetes.Configuration;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Tests.Support;

namespace ComfyOperator.Kubernetes.Tests.Client;

/// <summary>Request shapes and retry rules, against a scripted handler (the emulator tests cover behaviour end to end).</summary>
public sealed class KubernetesClientUnitTests
{
    private const string ConfigMapJson = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"7"}}""";
    private const string NotFound = """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"a\" not found","reason":"NotFound","details":{"name":"a","kind":"configmaps"},"code":404}""";

    private static KubernetesClient Client(StubHandler handler, ITokenProvider? tokens = null, KubernetesClientMetrics? metrics = null, TimeSpan? timeout = null) =>
        new(
            new KubernetesClientConfiguration
            {
                Host = new Uri("http://kube.test:8080/prefix/"),
                TokenProvider = tokens,
                RequestTimeout = timeout ?? TimeSpan.FromSeconds(30),
            },
            metrics: metrics,
            handler: handler,
            random: () => 0.0);

    [Fact]
    public async Task ListNamespacedAsync_Options_BuildsQuery()
    {
        var handler = new StubHandler(_ => StubHandler.Json(HttpStatusCode.OK, """{"kind":"ConfigMapList","metadata":{"resourceVersion":"9","continue":"c2"},"items":[]}"""));
        using var client = Client(handler);

        var list = await client.ListNamespacedAsync<ConfigMap>("n", new ListOptions { LabelSelector = "app in (a,b)", FieldSelector = "metadata.name=x", Limit = 5, Continue = "c1" });

        Assert.Equal("c2", list.Metadata.Continue);
        Assert.Equal(
            "/prefix/api/v1/namespaces/n/configmaps?labelSelector=app%20in%20%28a%2Cb%29&fieldSelector=metadata.name%3Dx&limit=5&continue=c1",
            handler.Requests[0].Url);
    }

    [Fact]
    public async Task ReadNamespacedAsync_404_ThrowsNotFoundWithStatus()
    {
        var handler = new StubHandler(_ => StubHandler.Json(HttpStatusCode.NotFound, NotFound));
        using var client = Client(handler);

        var error = await Assert.ThrowsAsync<KubernetesException>(() => client.ReadNamespacedAsync<ConfigMap>("a", "n"));

        Assert.True(error.IsNotFound);
        Assert.False(error.IsConflict);
        Assert.Equal("configmaps \"a\" not found", error.Status.Message);
    }

    [Fact]
    public async Task ReadAsync_NonStatusErrorBody_StillCarriesTheCode()
    {
        var handler = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>proxy</html>") });
        using var client = new KubernetesClient(new KubernetesClientConfiguration { Host = new Uri("http://k"), MaxRetries = 0 }, handler: handler);

        var error = await Assert.ThrowsAsync<KubernetesException>(() => client.ReadAsync<Namespace>("x"));

        Assert.Equal(502, error.Code);
        Assert.Contains("proxy", error.Status.Message);
    }

    [Fact]
    public async Task ReadAsync_ServerErrorsThenSuccess_RetriesReads()
    {
        var handler = new StubHandler(
            _ => StubHandler.Json(HttpStatusCode.InternalServerError, "{}"),
            _ => StubHandler.Json(HttpStatusCode.ServiceUnavailable, "{}"),
            _ => StubHandler.Json(HttpStatusCode.OK, ConfigMapJson));
        using var client = Client(handler);

        var map = await client.ReadNamespacedAsync<ConfigMap>("a", "n");

        Assert.Equal("7", map.Metadata.ResourceVersion);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task CreateNamespacedAsync_ServerError_IsNotRetried()
    {
        var handler = new StubHandler(_ => StubHandler.Json(HttpStatusCode.InternalServerError, """{"kind":"Status","code":500,"reason":"InternalError","message":"x"}"""));
        using var client = Client(handler);

        var error = await Assert.ThrowsAsync<KubernetesException>(() => client.CreateNamespacedAsync(new ConfigMap { Metadata = new ObjectMeta { Name = "a" } }, "n"));

        Assert.True(error.IsServerError);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task CreateNamespacedAsync_TooManyRequests_RetriesAfterRetryAfter()
    {
        var handler = new StubHandler(
            _ =>
            {
                var r = StubHandler.Json(HttpStatusCode.TooManyRequests, "{}");
                r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.Zero);
                return r;
            },
            _ => StubHandler.Json(HttpStatusCode.Created, ConfigMapJson));
        using var client = Client(handler);

        var created = await client.CreateNamespacedAsync(new ConfigMap { Metadata = new ObjectMeta { Name = "a" } }, "n", fieldManager: "comfy", dryRun: true);

        Assert.Equal("a", created.Metadata.Name);
        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal("/prefix/api/v1/namespaces/n/configmaps?fieldManager=comfy&dryRun=All", handler.Requests[1].Url);
        Assert.Contains("\"name\":\"a\"", handler.Requests[1].Body);
    }

    [Fact]
    public async Task Request_401_RefreshesTokenAndRetriesOnce()
    {
        var tokens = new CountingTokens();
        var handler = new StubHandler(
            _ => StubHandler.Json(HttpStatusCode.Unauthorized, """{"kind":"Status","code":401,"reason":"Unauthorized"}"""),
            _ => StubHandler.Json(HttpStatusCode.OK, ConfigMapJson),
            _ => StubHandler.Json(HttpStatusCode.Unauthorized, """{"kind":"Status","code":401,"reason":"Unauthorized"}"""),
            _ => StubHandler.Json(HttpStatusCode.Unauthorized, """{"kind":"Status","code":401,"reason":"Unauthorized"}"""));
        using var client = Client(handler, tokens);

        await client.ReadNamespacedAsync<ConfigMap>("a", "n");
        var error = await Assert.ThrowsAsync<KubernetesException>(() => client.ReadNamespacedAsync<ConfigMap>("a", "n"));

        Assert.True(error.IsUnauthorized);
        Assert.Equal(["Bearer t1", "Bearer t2", "Bearer t2", "Bearer t3"], handler.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task PatchNamespacedAsync_Types_SendTheirContentTypesAndQuery()
    {
        var handler = new StubHandler(
            _ => StubHandler.Json(HttpStatusCode.OK, ConfigMapJson),
            _ => StubHandler.Json(HttpStatusCode.OK, ConfigMapJson),
            _ => StubHandler.Json(HttpStatusCode.OK, ConfigMapJson));
        using var client = Client(handler);

        await client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Merge(new { data = new { k = "v" } }), "a", "n");
        await client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Json("""[{"op":"add","path":"/data/x","value":"y"}]"""), "a", "n");
        await client.PatchNamespacedStatusAsync<ConfigMap>(KubernetesPatch.Apply(new ConfigMap { Metadata = new ObjectMeta { Name = "a" } }), "a", "n", fieldManager: "op", force: true);

        Assert.Equal(["application/merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"], handler.Requests.Select(r => r.ContentType));
        Assert.Equal("{\"data\":{\"k\":\"v\"}}", handler.Requests[0].Body);
        Assert.Equal("/prefix/api/v1/namespaces/n/configmaps/a/status?fieldManager=op&force=true", handler.Requests[2].Url);
        await Assert.ThrowsAsync<ArgumentException>(() => client.PatchNamespacedAsync<ConfigMap>(KubernetesPatch.Apply("{}"), "a", "n"));
    }

    [Fact]
    public async Task DeleteNamespacedAsync_StatusOrObject_ReturnsNullOrObject()
    {
        var handler = new StubHandler(
            _ => StubHandler.Json(HttpStatusCode.OK, """{"kind":"Status","apiVersion":"v1","status":"Success","details":{"name":"a"}}"""),
            _ => StubHandler.Json(HttpStatusCode.OK, ConfigMapJson));
        using var client = Client(handler);

        var gone = await client.DeleteNamespacedAsync<ConfigMap>("a", "n", new DeleteOptions { PropagationPolicy = PropagationPolicy.Foreground, Preconditions = new Preconditions { Uid = "u1" } });
        var pending = await client.DeleteNamespacedAsync<ConfigMap>("a", "n");

        Assert.Null(gone);
        Assert.Equal("a", pending!.Metadata.Name);
        Assert.Contains("\"propagationPolicy\":\"Foreground\"", handler.Requests[0].Body);
        Assert.Contains("\"preconditions\":{\"uid\":\"u1\"}", handler.Requests[0].Body);
        Assert.Null(handler.Requests[1].Body);
    }

    [Fact]
    public async Task Methods_WrongScope_Throw()
    {
        using var client = Client(new StubHandler());

        await Assert.ThrowsAsync<ArgumentException>(() => client.ReadNamespacedAsync<Namespace>("x", "n"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.ReadAsync<ConfigMap>("x"));
    }

    [Fact]
    public async Task Request_SlowServer_ThrowsTimeout()
    {
        using var client = new KubernetesClient(
            new KubernetesClientConfiguration { Host = new Uri("http://k"), RequestTimeout = TimeSpan.FromMilliseconds(1), MaxRetries = 0 },
            handler: new DelayingHandler());

        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadAsync<Namespace>("x"));
    }

    [Fact]
    public async Task Request_CallerCancels_ThrowsOperationCanceled()
    {
        using var client = new KubernetesClient(new KubernetesClientConfiguration { Host = new Uri("http://k") }, handler: new DelayingHandler());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadAsync<Namespace>("x", cts.Token));
    }

    [Fact]
    public async Task Metrics_EveryAttempt_CountedByVerbAndCode()
    {
        var metrics = new KubernetesClientMetrics();
        var seen = new List<(string Verb, string Code)>();
        metrics.RequestCompleted += (_, e) => seen.Add((e.Verb, e.Code));
        var handler = new StubHandler(
            _ => StubHandler.Json(HttpStatusCode.InternalServerError, "{}"),
            _ => StubHandler.Json(HttpStatusCode.OK, ConfigMapJson),
            _ => StubHandler.Json(HttpStatusCode.NotFound, NotFound));
        using var client = Client(handler, metrics: metrics);

        await client.ReadNamespacedAsync<ConfigMap>("a", "n");
        await Assert.ThrowsAsync<KubernetesException>(() => client.DeleteNamespacedAsync<ConfigMap>("a", "n"));

        Assert.Equal([("get", "500"), ("get", "200"), ("delete", "404")], seen);
    }

    private sealed class CountingTokens : ITokenProvider
    {
        private int _version = 1;

        public ValueTask<string?> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
        {
            if (forceRefresh)
            {
                _version++;
            }

            return ValueTask.FromResult<string?>($"t{_version}");
        }
    }

    private sealed class DelayingHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
