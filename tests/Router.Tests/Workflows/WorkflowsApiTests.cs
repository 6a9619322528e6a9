using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;
using Microsoft.OpenApi;

namespace ComfyOperator.Router.Tests.Workflows;

public sealed class WorkflowsApiTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];

    private static async Task<string> SubmitAsync(HttpClient client, string workflow, object body)
    {
        using var response = await client.PostAsJsonAsync($"/v1/workflows/{workflow}/runs", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task AssertImageOutputAsync(SimulatedCluster cluster, JsonElement run)
    {
        var outputs = run.GetProperty("outputs");
        Assert.True(outputs.GetArrayLength() > 0, run.ToString());
        var bytes = await cluster.Client.GetByteArrayAsync(outputs[0].GetProperty("url").GetString());
        Assert.Equal(PngSignature, bytes[..4]);
    }

    [Fact]
    public async Task SubmitAsync_Sd15TypedJson_RunSucceedsWithImage()
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        var id = await SubmitAsync(cluster.Client, "sd15", new { prompt = "a red fox", steps = 2, width = 64, height = 64, seed = 5, sampler = "dpmpp_2m" });
        var run = await cluster.WaitForStatusAsync(id, "succeeded");

        await AssertImageOutputAsync(cluster, run);
        var stored = (await cluster.AllRunsAsync()).Single(r => r.Id == id);
        Assert.Equal("sd15", stored.Deployment);
        Assert.Equal(ComfyOperator.Router.Api.RunOwner.KeyId(RouterFactory.ApiKey), stored.Owner);
        var graph = JsonDocument.Parse(stored.Workflow).RootElement;
        Assert.Equal("a red fox", graph.GetProperty("6").GetProperty("inputs").GetProperty("text").GetString());
        Assert.Equal("dpmpp_2m", graph.GetProperty("3").GetProperty("inputs").GetProperty("sampler_name").GetString());
    }

    [Fact]
    public async Task SubmitAsync_DeploymentWithNamedOutputs_StoresAndListsThemUnderTheirNames()
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        var id = await SubmitAsync(cluster.Client, "portrait", new { prompt = "a sailor", steps = 2 });
        var run = await cluster.WaitForStatusAsync(id, "succeeded");

        // outputs[] names node 9 (SaveImage) "image"; the PreviewImage node is not an output.
        var output = Assert.Single(run.GetProperty("outputs").EnumerateArray());
        Assert.Equal("image", output.GetProperty("output").GetString());
        Assert.Equal("9", output.GetProperty("nodeId").GetString());
        var stored = Assert.Single((await cluster.AllRunsAsync()).Single(r => r.Id == id).Outputs);
        Assert.StartsWith("image/", stored.StorePath, StringComparison.Ordinal);
        await AssertImageOutputAsync(cluster, run);
    }

    [Fact]
    public async Task Rerun_WorkflowRun_IsARunOfTheSameWorkflowWithTheSameInputs()
    {
        await using var cluster = await WorkflowCluster.StartAsync();
        var first = await SubmitAsync(cluster.Client, "portrait", new { prompt = "a sailor", steps = 2 });
        await cluster.WaitForStatusAsync(first, "succeeded");

        using var rerun = await cluster.Client.PostAsync($"/v1/runs/{first}/rerun", null);
        var accepted = await rerun.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Accepted, rerun.StatusCode);
        Assert.Equal("portrait", accepted.GetProperty("workflow").GetString());
        var second = accepted.GetProperty("id").GetString()!;
        var run = await cluster.WaitForStatusAsync(second, "succeeded");

        // Named the way the workflow names its outputs, and listed under the workflow with the first run.
        Assert.Equal("image", Assert.Single(run.GetProperty("outputs").EnumerateArray()).GetProperty("output").GetString());
        var listed = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/runs?workflow=portrait");
        Assert.Equal([second, first], listed.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        var stored = (await cluster.AllRunsAsync()).Where(r => r.Id == first || r.Id == second).ToList();
        Assert.All(stored, r => Assert.Equal("portrait", r.Deployment));
        Assert.Equal(stored[0].Workflow, stored[1].Workflow);
        Assert.Contains("a sailor", stored[1].Workflow, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAsync_EveryPreset_ProducesImages()
    {
        await using var cluster = await WorkflowCluster.StartAsync();
        await WorkflowCluster.WaitReadyAsync(cluster.Client, "flux");

        var runs = new[]
        {
            await SubmitAsync(cluster.Client, "sd15", new { prompt = "a lighthouse", steps = 2, width = 64, height = 64 }),
            await SubmitAsync(cluster.Client, "sdxl", new { prompt = "a fox", negative_prompt = "text", steps = 3, width = 64, height = 64 }),
            await SubmitAsync(cluster.Client, "sdxl", new { prompt = "a fox", steps = 3, width = 64, height = 64, refiner_checkpoint = "sd_xl_refiner_1.0.safetensors", refiner_start_step = 2 }),
            await SubmitAsync(cluster.Client, "flux", new { prompt = "a robot", steps = 2, width = 64, height = 64, guidance = 3.0 }),
        };

        foreach (var id in runs)
        {
            await AssertImageOutputAsync(cluster, await cluster.WaitForStatusAsync(id, "succeeded"));
        }
    }

    [Fact]
    public async Task SubmitAsync_Multipart_FormFieldsAreTypedAndFilesGoToTheInputCache()
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        using var fields = new MultipartFormDataContent
        {
            { new StringContent("a cat"), "prompt" },
            { new StringContent("2"), "steps" },
            { new StringContent("64"), "width" },
            { new StringContent("64"), "height" },
            { new StringContent("7.5"), "cfg" },
        };
        using var plain = await cluster.Client.PostAsync("/v1/workflows/sd15/runs", fields);
        Assert.Equal(HttpStatusCode.Accepted, plain.StatusCode);
        var id = (await plain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await AssertImageOutputAsync(cluster, await cluster.WaitForStatusAsync(id, "succeeded"));

        using var withFile = new MultipartFormDataContent { { new StringContent("a cat, watercolour"), "prompt" } };
        var image = new ByteArrayContent([.. PngSignature, 1, 2, 3, 4]);
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        withFile.Add(image, "init_image", "cat.png");
        using var uploaded = await cluster.Client.PostAsync("/v1/workflows/sd15/runs", withFile);
        Assert.Equal(HttpStatusCode.Accepted, uploaded.StatusCode);
        var uploadedId = (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var stored = (await cluster.AllRunsAsync()).Single(r => r.Id == uploadedId);
        var loadImage = JsonDocument.Parse(stored.Workflow).RootElement.GetProperty("20").GetProperty("inputs").GetProperty("image").GetString()!;
        Assert.StartsWith("cache:", loadImage, StringComparison.Ordinal);
        Assert.EndsWith(".png", loadImage, StringComparison.Ordinal);

        using var badField = new MultipartFormDataContent { { new StringContent("a cat"), "prompt" }, { new StringContent("lots"), "steps" } };
        using var refused = await cluster.Client.PostAsync("/v1/workflows/sd15/runs", badField);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(("steps", "type"), (problem.GetProperty("field").GetString(), problem.GetProperty("rule").GetString()));
    }

    [Theory]
    [InlineData("""{"prompt": "x", "steps": 0}""", "steps", "min", "'steps' must be at least 1, not 0.")]
    [InlineData("""{"prompt": "x", "steps": 99}""", "steps", "max", "'steps' must be at most 30, not 99.")]
    [InlineData("""{"steps": 3}""", "prompt", "required", "'prompt' is required")]
    [InlineData("""{"prompt": "x", "size": 3}""", "size", "unknown", "'size' is not an input of workflow 'portrait'")]
    [InlineData("""{"prompt": ["x"]}""", "prompt", "type", "'prompt' must be a string")]
    public async Task SubmitAsync_BrokenInput_Is400NamingInputAndRule(string body, string field, string rule, string message)
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await cluster.Client.PostAsync("/v1/workflows/portrait/runs", content);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("https://comfyoperator.io/problems/invalid-input", problem.GetProperty("type").GetString());
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(rule, problem.GetProperty("rule").GetString());
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAsync_UnknownInvalidOrUnplaceable_GivesClearStatus()
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        using var unknown = await cluster.Client.PostAsJsonAsync("/v1/workflows/nope/runs", new { });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        using var invalid = await cluster.Client.PostAsJsonAsync("/v1/workflows/broken/runs", new { prompt = "x" });
        var invalidProblem = await invalid.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Conflict, invalid.StatusCode);
        Assert.Contains("spec.outputs[0].node: the graph has no node '77'", invalidProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var missing = await cluster.Client.PostAsJsonAsync("/v1/workflows/ghost/runs", new { prompt = "x" });
        var missingProblem = await missing.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, missing.StatusCode);
        Assert.Contains("checkpoints/ghost.safetensors", missingProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(missing.Headers.RetryAfter);

        using var labels = await cluster.Client.PostAsJsonAsync("/v1/workflows/gpu-a100/runs", new { prompt = "x" });
        var labelsProblem = await labels.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, labels.StatusCode);
        Assert.Contains("has the labels gpu=a100", labelsProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAsync_ModelCopiedInAfterTheListsWereRead_AcceptedAtOnce()
    {
        await using var cluster = await WorkflowCluster.StartAsync();
        await Wait.UntilAsync(
            async () =>
            {
                var text = await cluster.Client.GetStringAsync("/v1/workflows/ghost");
                return text.Contains("ghost.safetensors", StringComparison.Ordinal) && !text.Contains("still being read", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(30),
            "every worker's model lists to be read (without ghost.safetensors)");

        // Someone copies the model in: the lists the router holds are now stale.
        foreach (var worker in cluster.Workers)
        {
            await File.WriteAllBytesAsync(Path.Combine(worker.ModelsDirectory, "checkpoints", "ghost.safetensors"), [1, 2, 3]);
        }

        using var raw = await cluster.Client.PostAsJsonAsync("/v1/workflows/ghost/runs", new { prompt = "x" });
        Assert.Equal(HttpStatusCode.Accepted, raw.StatusCode);
    }

    [Fact]
    public async Task SubmitAsync_ModelNobodyHasWithQueueWhenUnavailable_WaitsWithoutBlockingOthers()
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        var waiting = await SubmitAsync(cluster.Client, "ghost-wait", new { prompt = "x" });
        var other = await SubmitAsync(cluster.Client, "portrait", new { prompt = "y", steps = 2 });

        await cluster.WaitForStatusAsync(other, "succeeded");
        Assert.Equal("queued", (await cluster.GetRunAsync(waiting)).GetProperty("status").GetString());
        var sent = cluster.Workers.Sum(w => w.PromptsExecuted);
        Assert.Equal(1, sent);

        // The raw API refuses the same graph at once instead of sending it to fail with value_not_in_list.
        var graph = JsonNode(cluster, waiting);
        using var raw = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(graph));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, raw.StatusCode);
        Assert.Contains("ghost.safetensors", await raw.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static System.Text.Json.Nodes.JsonNode JsonNode(SimulatedCluster cluster, string id) =>
        System.Text.Json.Nodes.JsonNode.Parse(cluster.AllRunsAsync().GetAwaiter().GetResult().Single(r => r.Id == id).Workflow)!;

    [Fact]
    public async Task SubmitAsync_PendingLimits_Are429WithRetryAfter()
    {
        await using var cluster = await WorkflowCluster.StartAsync(settings: new Dictionary<string, string?> { ["Router:MaxPendingPerKey"] = "3" });

        for (var i = 0; i < 3; i++)
        {
            await SubmitAsync(cluster.Client, "ghost-wait", new { prompt = $"k{i}" });
        }

        using var keyLimited = await cluster.Client.PostAsJsonAsync("/v1/workflows/ghost-wait/runs", new { prompt = "one more" });
        Assert.Equal(HttpStatusCode.TooManyRequests, keyLimited.StatusCode);
        Assert.NotNull(keyLimited.Headers.RetryAfter);
        Assert.Contains("key-pending-limit-reached", await keyLimited.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Another caller (Basic auth) still has room, until the workflow's own maxPending (4).
        using var basic = cluster.Router.CreateClient();
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:admin")));
        await SubmitAsync(basic, "ghost-wait", new { prompt = "b1" });
        using var workflowLimited = await basic.PostAsJsonAsync("/v1/workflows/ghost-wait/runs", new { prompt = "b2" });
        Assert.Equal(HttpStatusCode.TooManyRequests, workflowLimited.StatusCode);
        Assert.NotNull(workflowLimited.Headers.RetryAfter);
        Assert.Contains("workflow-pending-limit-reached", await workflowLimited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetWorkflows_ListsPresetsAndFilesWithContract()
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        var all = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/workflows");
        var names = all.EnumerateArray().Select(w => w.GetProperty("name").GetString()).ToList();
        Assert.Equal(["broken", "flux", "ghost", "ghost-wait", "gpu-a100", "portrait", "sd15", "sdxl"], names);

        var sd15 = await cluster.Client.GetFromJsonAsync<JsonElement>("/v1/workflows/sd15");
        Assert.Equal("preset", sd15.GetProperty("source").GetString());
        Assert.Contains("checkpoints/v1-5-pruned-emaonly.safetensors", sd15.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var inputs = sd15.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()).ToList();
        foreach (var expected in new[] { "prompt", "negative_prompt", "seed", "steps", "cfg", "sampler", "scheduler", "width", "height", "batch_size", "checkpoint", "denoise", "init_image" })
        {
            Assert.Contains(expected, inputs);
        }

        Assert.Equal(1, sd15.GetProperty("readiness").GetProperty("ready").GetInt32());
        var ghost = all.EnumerateArray().Single(w => w.GetProperty("name").GetString() == "ghost");
        Assert.Contains("ghost.safetensors", ghost.GetProperty("readiness").GetProperty("reason").GetString(), StringComparison.Ordinal);
        var broken = all.EnumerateArray().Single(w => w.GetProperty("name").GetString() == "broken");
        Assert.False(broken.GetProperty("valid").GetBoolean());

        using var unauthenticated = cluster.Router.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await unauthenticated.GetAsync("/v1/workflows")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await unauthenticated.PostAsJsonAsync("/v1/workflows/sd15/runs", new { prompt = "x" })).StatusCode);
    }

    [Fact]
    public async Task OpenApi_PerWorkflow_IsValidOpenApi3WithInputsAsRequestSchema()
    {
        await using var cluster = await WorkflowCluster.StartAsync();

        foreach (var name in new[] { "sd15", "sdxl", "flux", "portrait" })
        {
            var json = await cluster.Client.GetStringAsync($"/v1/workflows/{name}/openapi.json");
            var read = OpenApiDocument.Parse(json, "json");
            Assert.Empty(read.Diagnostic?.Errors ?? []);
            var document = read.Document!;
            Assert.Equal(OpenApiSpecVersion.OpenApi3_0, read.Diagnostic!.SpecificationVersion);
            var operation = document.Paths[$"/v1/workflows/{name}/runs"].Operations![HttpMethod.Post];
            var schema = operation.RequestBody!.Content!["application/json"].Schema!;
            Assert.Contains("prompt", schema.Properties!.Keys);
            Assert.Contains("prompt", schema.Required!);
            var multipart = operation.RequestBody.Content["multipart/form-data"].Schema!;
            if (name != "portrait")
            {
                Assert.Equal("binary", multipart.Properties!["init_image"].Format);
                Assert.Contains("euler", schema.Properties!["sampler"].Enum!.Select(e => e!.ToString()));
            }
            else
            {
                Assert.Equal(30m, schema.Properties!["steps"].Maximum is { } max ? decimal.Parse(max, System.Globalization.CultureInfo.InvariantCulture) : 0m);
            }
        }

        // The main document, behind /docs, lists every workflow's run operation.
        var main = await cluster.Client.GetStringAsync("/openapi/v1.json");
        foreach (var name in new[] { "sd15", "sdxl", "flux", "portrait", "ghost" })
        {
            Assert.Contains($"\"/v1/workflows/{name}/runs\"", main, StringComparison.Ordinal);
        }

        Assert.Empty(OpenApiDocument.Parse(main, "json").Diagnostic?.Errors ?? []);
    }
}
