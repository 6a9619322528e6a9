using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Tests.Inputs;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.ComfyRouterApi;

/// <summary>Comfy Router's routes used the way a Comfy Router client uses them (Basic credentials, polling), against simulated workers.</summary>
public sealed class ComfyRouterApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private TestFileServer _files = null!;

    public async Task InitializeAsync() => _files = await TestFileServer.StartAsync();

    public async Task DisposeAsync() => await _files.DisposeAsync();

    [Fact]
    public async Task Workflow_Sd15Txt2Img_PollsToDoneWithPngBytes()
    {
        await using var cluster = await StartAsync();
        using var client = BasicClient(cluster);

        var id = await RunAsync(client, "SD15", Sd15Params());
        var done = await WaitForStatusAsync(client, $"/workflow/{id}", "done");

        var images = done["data"]!.AsArray();
        Assert.Single(images);
        Assert.Equal(PngSignature, Bytes(images[0]!)[..8]);
        Assert.Equal("succeeded", (await cluster.GetRunAsync(id)).GetProperty("status").GetString());
        Assert.Contains("v1-5-pruned-emaonly.safetensors", await GraphAsync(cluster, id), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SDXL")]
    [InlineData("Flux")]
    public async Task Workflow_SdxlOrFluxPayload_RunsToPngBytes(string type)
    {
        await using var cluster = await StartAsync();
        using var client = BasicClient(cluster);
        var parameters = type == "SDXL" ? Sd15Params(checkpoint: "sd_xl_base_1.0.safetensors", size: 64) : FluxParams();

        var id = await RunAsync(client, type, parameters);
        var done = await WaitForStatusAsync(client, $"/workflow/{id}", "done");

        Assert.Equal(PngSignature, Bytes(done["data"]![0]!)[..8]);
        var graph = await GraphAsync(cluster, id);
        Assert.Contains(type == "SDXL" ? "sd_xl_base_1.0.safetensors" : "FluxGuidance", graph, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workflow_LoraAndImg2ImgFromUrl_ImageDownloadedIntoTheCacheAndRun()
    {
        var png = TestPng.Create(32, 32, 7);
        _files.Files["source.png"] = png;
        await using var cluster = await StartAsync();
        using var client = BasicClient(cluster);
        var parameters = Sd15Params();
        parameters["loras"] = new JsonArray(new JsonObject { ["model"] = BuiltIn("add_detail.safetensors"), ["weight"] = 0.8 });
        parameters["input_image"] = new JsonObject { ["type"] = "url", ["content"] = _files.Url("source.png") };
        parameters["denoise"] = 0.6;

        var id = await RunAsync(client, "SD15", parameters);
        var done = await WaitForStatusAsync(client, $"/workflow/{id}", "done");

        Assert.Equal(PngSignature, Bytes(done["data"]![0]!)[..8]);
        Assert.Equal(1, _files.Hits["source.png"]);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png));
        Assert.True(File.Exists(Path.Combine(cluster.Workers[0].InputDirectory, hash + ".png")));
        var graph = JsonNode.Parse(await GraphAsync(cluster, id))!.AsObject();
        var sampler = graph.Select(n => n.Value!).Single(n => n["class_type"]!.GetValue<string>() == "KSampler");
        Assert.Equal(0.6, sampler["inputs"]!["denoise"]!.GetValue<double>());
        Assert.Contains(graph, n => n.Value!["class_type"]!.GetValue<string>() == "LoraLoader");
        Assert.Contains(graph, n => n.Value!["class_type"]!.GetValue<string>() == "VAEEncode");
    }

    [Fact]
    public async Task Preview_WhileRunning_ShowsProgressAndPreviewsWithoutCredentialsThenAnEmptyDone()
    {
        await using var cluster = await StartAsync(o =>
        {
            o.PreviewMethod = "auto";
            o.StepDelay = TimeSpan.FromMilliseconds(50);
        });
        using var client = BasicClient(cluster);
        using var anonymous = cluster.Router.CreateClient();
        var parameters = Sd15Params();
        parameters["steps"] = 30;

        var id = await RunAsync(client, "SD15", parameters);
        JsonObject running = null!;
        await Wait.UntilAsync(async () =>
        {
            running = await ReadAsync(anonymous, $"/preview/{id}");
            return running["status"]!.GetValue<string>() == "running" && running["data"]!["previews"]!.AsArray().Count > 0
                && running["data"]!["progress"]!.GetValue<double>() > 0;
        }, Deadline, "a running result with a preview");
        var done = await WaitForStatusAsync(anonymous, $"/preview/{id}", "done");

        Assert.InRange(running["data"]!["progress"]!.GetValue<double>(), 0.0, 1.0);
        Assert.True(running["data"]!["previews"]![0]!.AsArray().Count > 0);
        Assert.Empty(done["data"]!.AsArray());
        using var unauthorized = await anonymous.GetAsync($"/workflow/{id}");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task ClusterNodes_AddListDelete_WorkerJoinsAndLeaves()
    {
        await using var cluster = await StartAsync();
        await using var extra = await ComfyUiSimulator.StartAsync();
        using var client = BasicClient(cluster);
        var url = extra.BaseAddress.ToString();

        using (var added = await client.PostAsJsonAsync("/cluster/nodes", new { url }))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        await Wait.UntilAsync(async () => StatusOf(await ReadAsync(client, "/cluster/nodes"), url) == "idle", Deadline, "the added worker to be idle");
        var nodes = await ReadAsync(client, "/cluster/nodes");
        Assert.Equal("idle", StatusOf(nodes, cluster.Workers[0].BaseAddress.ToString()));
        Assert.Empty(nodes["nodes"]![0]!["status"]!["cache"]!.AsObject());

        using (var removed = await client.PostAsJsonAsync("/cluster/nodes/delete", new { url }))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        }

        Assert.Null(StatusOf(await ReadAsync(client, "/cluster/nodes"), url));
        using var configured = await client.PostAsJsonAsync("/cluster/nodes/delete", new { url = cluster.Workers[0].BaseAddress.ToString() });
        Assert.Equal(HttpStatusCode.BadRequest, configured.StatusCode);
        Assert.Contains("config", (await configured.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_NoCredentials_AnswersOkAsText()
    {
        await using var cluster = await StartAsync();
        using var anonymous = cluster.Router.CreateClient();

        using var response = await anonymous.GetAsync("/health_check");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        using var nodes = await anonymous.GetAsync("/cluster/nodes");
        Assert.Equal(HttpStatusCode.Unauthorized, nodes.StatusCode);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""{"type": "SD3", "params": {}}""", "'type'")]
    [InlineData("""{"type": "SD15", "params": {"checkpoint": {"type": "build_in", "name": "v1-5-pruned-emaonly.safetensors"}}}""", "params.prompt")]
    [InlineData("""{"type": "SD15", "params": {"checkpoint": {"type": "build_in"}}}""", "params.checkpoint")]
    public async Task Workflow_BadPayload_Returns400WithMessage(string body, string named)
    {
        await using var cluster = await StartAsync();
        using var client = BasicClient(cluster);

        using var response = await client.PostAsync("/workflow", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(named, (await response.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, cluster.Workers[0].PromptsExecuted);
    }

    [Fact]
    public async Task Workflow_CustomModelUrlWithoutSharedCache_Returns400SayingModelsComeFromTheWorkers()
    {
        await using var cluster = await StartAsync();
        using var client = BasicClient(cluster);
        var parameters = Sd15Params();
        parameters["checkpoint"] = new JsonObject { ["type"] = "custom", ["name"] = _files.Url("model.safetensors") };

        using var response = await client.PostAsJsonAsync("/workflow", new JsonObject { ["type"] = "SD15", ["params"] = parameters });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Visibility=link", (await response.Content.ReadFromJsonAsync<JsonObject>())!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(_files.Hits.ContainsKey("model.safetensors"));
    }

    [Fact]
    public async Task Workflow_UnknownId_Returns404WithMessage()
    {
        await using var cluster = await StartAsync();
        using var client = BasicClient(cluster);

        using var response = await client.GetAsync("/workflow/no-such-run");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["message"]);
    }

    private static Task<SimulatedCluster> StartAsync(Action<ComfyUiSimulatorOptions>? configure = null) =>
        SimulatedCluster.StartAsync(1, configure, new Dictionary<string, string?>
        {
            ["Router:Username"] = "admin",
            ["Router:Password"] = "s3cret",
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
        });

    private static HttpClient BasicClient(SimulatedCluster cluster)
    {
        var client = cluster.Router.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:s3cret")));
        return client;
    }

    private static async Task<string> RunAsync(HttpClient client, string type, JsonObject parameters)
    {
        using var response = await client.PostAsJsonAsync("/workflow", new JsonObject { ["type"] = type, ["params"] = parameters });
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /workflow answered {(int)response.StatusCode}: {answer}");
        return answer!["id"]!.GetValue<string>();
    }

    /// <summary>The graph the router built and stored for the run.</summary>
    private static async Task<string> GraphAsync(SimulatedCluster cluster, string id) =>
        (await cluster.Router.Services.GetRequiredService<RunService>().GetAsync(id, CancellationToken.None))!.Workflow;

    private static async Task<JsonObject> ReadAsync(HttpClient client, string path) =>
        (await client.GetFromJsonAsync<JsonObject>(path))!;

    private static async Task<JsonObject> WaitForStatusAsync(HttpClient client, string path, string status)
    {
        JsonObject result = null!;
        await Wait.UntilAsync(async () =>
        {
            result = await ReadAsync(client, path);
            var now = result["status"]!.GetValue<string>();
            return now == "error" ? throw new InvalidOperationException($"{path} answered an error: {result}") : now == status;
        }, Deadline, $"{path} to be {status}");
        return result;
    }

    private static string? StatusOf(JsonObject nodes, string url) =>
        nodes["nodes"]!.AsArray().FirstOrDefault(n => n!["url"]!.GetValue<string>() == url)?["status"]!["status"]!.GetValue<string>();

    private static byte[] Bytes(JsonNode numbers) => [.. numbers.AsArray().Select(n => n!.GetValue<byte>())];

    private static JsonObject BuiltIn(string name) => new() { ["type"] = "build_in", ["name"] = name };

    private static JsonObject Sd15Params(string checkpoint = "v1-5-pruned-emaonly.safetensors", int size = 64) => new()
    {
        ["checkpoint"] = BuiltIn(checkpoint),
        ["vae"] = null,
        ["loras"] = new JsonArray(),
        ["controlnets"] = new JsonArray(),
        ["prompt"] = "a lighthouse at dusk",
        ["negative_prompt"] = "blurry",
        ["input_image"] = null,
        ["input_mask"] = null,
        ["denoise"] = null,
        ["width"] = size,
        ["height"] = size,
        ["batch_size"] = 1,
        ["sampler"] = "euler",
        ["scheduler"] = "normal",
        ["steps"] = 4,
        ["cfg_scale"] = 7.0,
        ["seed"] = 42,
    };

    private static JsonObject FluxParams()
    {
        var parameters = Sd15Params();
        parameters.Remove("checkpoint");
        parameters["unet"] = BuiltIn("flux1-dev.safetensors");
        parameters["unet_dtype"] = "default";
        parameters["unet_type"] = "dev";
        parameters["vae"] = BuiltIn("ae.safetensors");
        parameters["t5xxl"] = BuiltIn("t5xxl_fp16.safetensors");
        parameters["clip"] = BuiltIn("clip_l.safetensors");
        parameters["cfg_scale"] = 3.5;
        return parameters;
    }
}
