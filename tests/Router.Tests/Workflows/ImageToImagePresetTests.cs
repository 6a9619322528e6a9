using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Router.Workflows;

namespace ComfyOperator.Router.Tests.Workflows;

/// <summary>
/// The presets' image-to-image graphs (LoadImage → VAEEncode) run on a simulator. The init image is
/// placed on the worker by hand here; resolving URL/cache inputs onto workers is the dispatcher's job.
/// </summary>
public sealed class ImageToImagePresetTests
{
    [Theory]
    [InlineData("sd15", """{"prompt": "a fox, watercolour", "steps": 2, "denoise": 0.6}""")]
    [InlineData("sdxl", """{"prompt": "a fox", "steps": 3, "refiner_checkpoint": "sd_xl_refiner_1.0.safetensors", "refiner_start_step": 2}""")]
    [InlineData("flux", """{"prompt": "a robot", "steps": 2, "denoise": 0.5}""")]
    public async Task Preset_InitImage_GraphRunsAndProducesImage(string preset, string inputs)
    {
        await using var cluster = await WorkflowCluster.StartAsync();
        await WorkflowCluster.WaitReadyAsync(cluster.Client, preset);

        // A real PNG to start from: a text-to-image run's output.
        using var seed = await cluster.Client.PostAsJsonAsync("/v1/workflows/sd15/runs", new { prompt = "start", steps = 2, width = 64, height = 64 });
        var seedId = (await seed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var seedRun = await cluster.WaitForStatusAsync(seedId, "succeeded");
        var png = await cluster.Client.GetByteArrayAsync(seedRun.GetProperty("outputs")[0].GetProperty("url").GetString());
        using var comfy = new ComfyClient(cluster.Workers[0].BaseAddress);
        using var upload = new MemoryStream(png);
        var uploaded = await comfy.UploadImageAsync(upload, "init.png");

        var values = JsonNode.Parse(inputs)!.AsObject().ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal);
        values[BuiltInWorkflows.InitImage] = "https://images.example/init.png";
        var bound = WorkflowInputBinder.Bind(BuiltInWorkflows.Find(preset)!, values, out var error);
        Assert.Null(error);
        Assert.Equal("VAEEncode", bound.Graph["21"]!["class_type"]!.GetValue<string>());
        bound.Graph["20"]!["inputs"]!["image"] = uploaded.PromptValue;

        using var response = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(bound.Graph));
        response.EnsureSuccessStatusCode();
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var run = await cluster.WaitForStatusAsync(id, "succeeded");

        Assert.True(run.GetProperty("outputs").GetArrayLength() > 0, run.ToString());
    }
}
