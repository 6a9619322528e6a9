using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Inputs;

/// <summary>URL, data: and cache: inputs of submitted graphs, end to end: cached and pinned before dispatch, uploaded to the worker, unpinned after.</summary>
public sealed class RunInputsTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private TestFileServer _files = null!;

    public async Task InitializeAsync() => _files = await TestFileServer.StartAsync();

    public async Task DisposeAsync() => await _files.DisposeAsync();

    [Fact]
    public async Task Submit_UrlImageInput_DownloadedOnceUploadedByHashAndUnpinnedAfter()
    {
        var png = TestPng.Create(16, 16, 1);
        _files.Files["cat.png"] = png;
        await using var cluster = await StartAsync();

        var first = await SubmitAsync(cluster, LoadAndSave(_files.Url("cat.png")));
        var second = await SubmitAsync(cluster, LoadAndSave(_files.Url("cat.png"), prefix: "again"));
        await cluster.WaitForStatusAsync(first, "succeeded", Deadline);
        await cluster.WaitForStatusAsync(second, "succeeded", Deadline);

        Assert.Equal(1, _files.Hits["cat.png"]);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png));
        Assert.True(File.Exists(Path.Combine(cluster.Workers[0].InputDirectory, hash + ".png")));
        var cache = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/cache");
        Assert.Equal(0, cache.GetProperty("pinnedFiles").GetInt32());
        Assert.Equal(1, cache.GetProperty("files").GetInt32());
    }

    [Fact]
    public async Task Submit_DataUriThenCacheReference_BothRunOnTheSameFile()
    {
        var png = TestPng.Create(8, 8, 2);
        await using var cluster = await StartAsync();

        var id = await SubmitAsync(cluster, LoadAndSave("data:image/png;base64," + Convert.ToBase64String(png)));
        await cluster.WaitForStatusAsync(id, "succeeded", Deadline);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png));
        var again = await SubmitAsync(cluster, LoadAndSave($"cache:{hash}.png", prefix: "again"));

        await cluster.WaitForStatusAsync(again, "succeeded", Deadline);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "image")]
    [InlineData("ftp://example.com/cat.png", "image")]
    [InlineData("cache:0000000000000000000000000000000000000000000000000000000000000000.png", "image")]
    public async Task Submit_RefusedInput_Returns400NamingNodeAndInput(string value, string input)
    {
        await using var cluster = await StartAsync();

        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(LoadAndSave(value)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"workflow.1.inputs.{input}", problem.GetProperty("field").GetString());
        Assert.Equal("https://comfyoperator.io/problems/input-refused", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Submit_ModelUrlWithoutSharedVolume_Returns400SayingWhy()
    {
        await using var cluster = await StartAsync();
        var graph = Graphs.Sd15();
        graph["4"]!["inputs"]!["ckpt_name"] = _files.Url("model.safetensors");

        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("workflow.4.inputs.ckpt_name", problem.GetProperty("field").GetString());
        Assert.Contains("Visibility=link", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_UrlThatFailsAfterAccept_RunFailsWithInputUnavailable()
    {
        await using var cluster = await StartAsync();

        var id = await SubmitAsync(cluster, LoadAndSave(_files.Url("missing.png")));
        var run = await cluster.WaitForStatusAsync(id, "failed", Deadline);

        Assert.Equal("input_unavailable", run.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("workflow.1.inputs.image", run.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, cluster.Workers[0].PromptsExecuted);
    }

    [Fact]
    public async Task Restart_QueuedRunWithInputAndAStalePin_PinsAreExactlyTheRunsAndReleasedOnCancel()
    {
        _files.Files["dog.png"] = TestPng.Create(4, 4, 3);
        await using var cluster = await StartAsync();
        cluster.Workers[0].Hang();
        // The worker is wedged with one prompt running and one queued: the next run waits in the router's queue.
        await cluster.SubmitAsync(steps: 2);
        await cluster.SubmitAsync(steps: 2, seed: 7);
        var id = await SubmitAsync(cluster, LoadAndSave(_files.Url("dog.png")));
        await Wait.UntilAsync(async () => (await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/cache")).GetProperty("pinnedFiles").GetInt32() == 1, Deadline, "the input to be cached and pinned");

        // A pin no run owns any more (as a crash between a run's end and its unpin would leave in the index).
        var fileName = (await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/cache")).GetProperty("entries")[0].GetProperty("fileName").GetString()!;
        Assert.True(cluster.Router.Services.GetRequiredService<InputCache>().Pin(fileName));
        await cluster.RestartRouterAsync();

        var cache = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/cache");
        Assert.Equal(1, cache.GetProperty("pinnedFiles").GetInt32());
        Assert.Equal(1, cache.GetProperty("entries")[0].GetProperty("pins").GetInt32());
        using var cancelled = await cluster.Client.DeleteAsync(new Uri($"/v1/runs/{id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        cache = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/cache");
        Assert.Equal(0, cache.GetProperty("pinnedFiles").GetInt32());
    }

    [Fact]
    public async Task Submit_LinkVisibility_ImageAndCheckpointUrlsAreSymlinkedIntoTheWorkerFolders()
    {
        _files.Files["photo.png"] = TestPng.Create(8, 8, 4);
        _files.Files["custom.safetensors"] = [1, 2, 3, 4, 5, 6, 7, 8];
        var cacheDirectory = Path.Combine(Path.GetTempPath(), "router-link-cache-" + Guid.NewGuid().ToString("N"));
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?>
        {
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
            ["Router:Inputs:CacheDirectory"] = cacheDirectory,
        });
        var worker = cluster.Workers[0];
        await cluster.RestartRouterWithAsync(new Dictionary<string, string?>
        {
            ["Router:Inputs:Visibility"] = "link",
            ["Router:Inputs:WorkerInputDirectory"] = worker.InputDirectory,
            ["Router:Inputs:WorkerModelsDirectory"] = worker.ModelsDirectory,
        });
        var graph = Graphs.Sd15(steps: 2);
        graph["4"]!["inputs"]!["ckpt_name"] = _files.Url("custom.safetensors");
        var load = LoadAndSave(_files.Url("photo.png"));

        var withModel = await SubmitAsync(cluster, graph);
        var withImage = await SubmitAsync(cluster, load);
        await cluster.WaitForStatusAsync(withModel, "succeeded", Deadline);
        await cluster.WaitForStatusAsync(withImage, "succeeded", Deadline);

        var model = Assert.Single(Directory.EnumerateFiles(Path.Combine(worker.ModelsDirectory, "checkpoints", "comfy-router")));
        Assert.StartsWith(cacheDirectory, new FileInfo(model).LinkTarget, StringComparison.Ordinal);
        var image = Assert.Single(Directory.EnumerateFiles(Path.Combine(worker.InputDirectory, "comfy-router")));
        Assert.EndsWith(".png", image, StringComparison.Ordinal);
        Assert.NotNull(new FileInfo(image).LinkTarget);
    }

    [Fact]
    public async Task Submit_WhileUrlInputsDownload_CountsAgainstThePendingLimit()
    {
        _files.Files["slow.png"] = TestPng.Create(8, 8, 3);
        _files.HoldResponses();
        await using var cluster = await SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?>
        {
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
            ["Router:PendingLimit"] = "1",
        });

        var waiting = await SubmitAsync(cluster, LoadAndSave(_files.Url("slow.png")));
        await Wait.UntilAsync(() => _files.Hits.ContainsKey("slow.png"), Deadline, "the download to start");
        using var refused = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(Graphs.Sd15()));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        _files.Gate.TrySetResult();
        await cluster.WaitForStatusAsync(waiting, "succeeded", Deadline);
        var accepted = await SubmitAsync(cluster, Graphs.Sd15());
        await cluster.WaitForStatusAsync(accepted, "succeeded", Deadline);
    }

    private Task<SimulatedCluster> StartAsync() =>
        SimulatedCluster.StartAsync(1, settings: new Dictionary<string, string?>
        {
            ["Router:Inputs:AllowedNetworks:0"] = "127.0.0.0/8",
        });

    private static async Task<string> SubmitAsync(SimulatedCluster cluster, JsonObject graph)
    {
        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static JsonObject LoadAndSave(string image, string prefix = "loaded") => new()
    {
        ["1"] = new JsonObject { ["class_type"] = "LoadImage", ["inputs"] = new JsonObject { ["image"] = image } },
        ["2"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["filename_prefix"] = prefix, ["images"] = new JsonArray("1", 0) } },
    };
}
