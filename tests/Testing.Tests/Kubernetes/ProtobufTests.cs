using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>
/// Protobuf request bodies (what client-go's typed clients send for built-in kinds, Helm's release
/// storage among them) and <c>/openapi/v2</c>, which client-go reads only as protobuf.
/// </summary>
public sealed class ProtobufTests : IAsyncLifetime
{
    private const string Protobuf = "application/vnd.kubernetes.protobuf";
    private KubeApiEmulator _emulator = null!;
    private ApiClient _api = null!;

    public async Task InitializeAsync()
    {
        _emulator = await KubeApiEmulator.StartAsync();
        _api = new ApiClient(_emulator.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task CreateSecret_ProtobufBody_StoredAsTheSameJsonObject()
    {
        var secret = new ProtoWriter()
            .Message(1, new ProtoWriter()
                .String(1, "sh.helm.release.v1.demo.v1").String(2, "").String(3, "")
                .Varint(7, 0).Message(8, new ProtoWriter())
                .Entry(11, "owner", "helm").Entry(11, "status", "deployed"))
            .Entry(2, "release", Encoding.UTF8.GetBytes("H4sI-payload"))
            .String(3, "helm.sh/release.v1");

        var created = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/secrets", ProtoWriter.Envelope("v1", "Secret", secret));

        Assert.Equal(201, created.Code);
        var stored = (await _api.GetAsync("/api/v1/namespaces/default/secrets/sh.helm.release.v1.demo.v1")).Json!;
        Assert.Equal("helm.sh/release.v1", stored["type"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("H4sI-payload")), stored["data"]!["release"]!.GetValue<string>());
        Assert.Equal("deployed", stored["metadata"]!["labels"]!["status"]!.GetValue<string>());
        Assert.NotNull(stored["metadata"]!["creationTimestamp"]);
        var listed = await _api.GetAsync("/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm");
        Assert.Single(listed.Json!["items"]!.AsArray());
    }

    [Fact]
    public async Task UpdateConfigMap_ProtobufBodyWithStaleResourceVersion_Conflict()
    {
        var created = await _api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"c"},"data":{"a":"1"}}""");
        var rv = created.Rv;
        ProtoWriter Map(string value, string resourceVersion) => new ProtoWriter()
            .Message(1, new ProtoWriter().String(1, "c").String(6, resourceVersion))
            .Entry(2, "a", value);

        var updated = await SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/configmaps/c", ProtoWriter.Envelope("v1", "ConfigMap", Map("2", rv)));
        var stale = await SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/configmaps/c", ProtoWriter.Envelope("v1", "ConfigMap", Map("3", rv)));

        Assert.Equal(200, updated.Code);
        Assert.Equal("2", updated.Json!["data"]!["a"]!.GetValue<string>());
        Assert.Equal(409, stale.Code);
    }

    [Fact]
    public async Task Delete_ProtobufDeleteOptionsWithWrongUidPrecondition_ConflictAndKept()
    {
        await _api.PostAsync("/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"keep"}}""");
        var options = new ProtoWriter().Message(2, new ProtoWriter().String(1, "not-the-uid")).String(4, "Background");

        var refused = await SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps/keep", ProtoWriter.Envelope("v1", "DeleteOptions", options));
        var deleted = await SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps/keep",
            ProtoWriter.Envelope("v1", "DeleteOptions", new ProtoWriter().String(4, "Background")));

        Assert.Equal(409, refused.Code);
        Assert.Equal(200, deleted.Code);
        Assert.Equal(404, (await _api.GetAsync("/api/v1/namespaces/default/configmaps/keep")).Code);
    }

    [Fact]
    public async Task Create_ProtobufKindOrFieldNotDecoded_UnsupportedMediaType()
    {
        var pod = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods",
            ProtoWriter.Envelope("v1", "Pod", new ProtoWriter().Message(1, new ProtoWriter().String(1, "p"))));
        var unknownField = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/secrets",
            ProtoWriter.Envelope("v1", "Secret", new ProtoWriter().Message(1, new ProtoWriter().String(1, "s")).String(9, "x")));
        var notProtobuf = await SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/secrets", Encoding.UTF8.GetBytes("""{"metadata":{"name":"s"}}"""));

        Assert.Equal(415, pod.Code);
        Assert.Contains("not v1 Pod", pod.Message, StringComparison.Ordinal);
        Assert.Equal(415, unknownField.Code);
        Assert.Contains("field 9 of Secret", unknownField.Message, StringComparison.Ordinal);
        Assert.Equal(400, notProtobuf.Code);
    }

    [Fact]
    public async Task OpenApiV2_ProtobufOrJson_SwaggerDocumentWithoutDefinitions()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v2");
        request.Headers.TryAddWithoutValidation("Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
        using var response = await _api.Http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("application/com.github.proto-openapi.spec.v2.v1.0+protobuf", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(new ProtoWriter().String(1, "2.0").ToArray(), bytes[..5]);
        Assert.Contains("Kubernetes", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        var json = await _api.GetAsync("/openapi/v2");
        Assert.Equal("2.0", json.Json!["swagger"]!.GetValue<string>());
        Assert.Empty(json.Json!["definitions"]!.AsObject());
    }

    [Fact]
    public async Task RequestLog_EachRequest_MethodPathAndStatus()
    {
        var lines = new List<string>();
        await using var emulator = await KubeApiEmulator.StartAsync(new KubeApiEmulatorOptions { RequestLog = l => { lock (lines) { lines.Add(l); } } });
        using var api = new ApiClient(emulator.BaseAddress);

        await api.GetAsync("/api/v1/namespaces/default/configmaps/missing");
        await api.GetAsync("/version");

        lock (lines)
        {
            Assert.Equal(["GET /api/v1/namespaces/default/configmaps/missing 404", "GET /version 200"], lines);
        }
    }

    private async Task<ApiResponse> SendAsync(HttpMethod method, string path, byte[] body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(Protobuf);
        request.Headers.TryAddWithoutValidation("Accept", $"{Protobuf}, application/json");
        using var response = await _api.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new ApiResponse((int)response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null, text, []);
    }
}
