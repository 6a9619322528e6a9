using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>aiohttp-level behaviour and the queue/history/info routes (docs/comfyui-protocol.md §1, 2.2, 3, 4.4-4.6).</summary>
public sealed class HttpBehaviourTests
{
    private static async Task<(ComfyUiSimulator, HttpClient)> StartAsync(ComfyUiSimulatorOptions? options = null)
    {
        var sim = await ComfyUiSimulator.StartAsync(options);
        return (sim, new HttpClient { BaseAddress = sim.BaseAddress });
    }

    [Fact]
    public async Task PostPrompt_Counter_ConsumedByRejectedPromptsAndFrontNegates()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        sim.Hang();

        var (_, first) = await http.PostRawAsync("prompt", new JsonObject { ["prompt"] = Graphs.Sd15() }.ToJsonString());
        Assert.Contains("\"number\":0,", first, StringComparison.Ordinal);
        var (rejected, _) = await http.PostRawAsync("prompt", """{"client_id": "x"}""");
        Assert.Equal(HttpStatusCode.BadRequest, rejected);
        var (_, third) = await http.PostRawAsync("prompt", new JsonObject { ["prompt"] = Graphs.Sd15(seed: 3) }.ToJsonString());
        Assert.Contains("\"number\":2,", third, StringComparison.Ordinal);
        var (_, front) = await http.PostRawAsync("prompt", new JsonObject { ["prompt"] = Graphs.Sd15(seed: 4), ["front"] = true }.ToJsonString());
        Assert.Contains("\"number\":-3,", front, StringComparison.Ordinal);
        var (_, explicitNumber) = await http.PostRawAsync("prompt", new JsonObject { ["prompt"] = Graphs.Sd15(seed: 5), ["number"] = 3 }.ToJsonString());
        Assert.Contains("\"number\":3.0,", explicitNumber, StringComparison.Ordinal);
        var (_, next) = await http.PostRawAsync("prompt", new JsonObject { ["prompt"] = Graphs.Sd15(seed: 6) }.ToJsonString());
        Assert.Contains("\"number\":4,", next, StringComparison.Ordinal);
        sim.Revive();
    }

    [Fact]
    public async Task Queue_PriorityHeap_RunsLowestNumberThenPromptIdOrder()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        sim.Hang();

        var ids = new List<string>();
        foreach (var (number, id) in new[] { (5, "e"), (1, "b"), (3, "c"), (1, "a"), (0, "z") })
        {
            var body = new JsonObject { ["prompt"] = Graphs.Sd15(seed: number * 10, steps: 1, prefix: id), ["number"] = number, ["prompt_id"] = id };
            var (status, json) = await http.PostPromptAsync(body);
            Assert.Equal(HttpStatusCode.OK, status);
            ids.Add(json["prompt_id"]!.GetValue<string>());
        }

        var queue = await http.GetJsonAsync("queue");
        Assert.Equal(5, queue["queue_pending"]!.AsArray().Count);
        Assert.Equal(5, queue["queue_pending"]![0]!.AsArray().Count);
        Assert.Equal("""{"exec_info":{"queue_remaining":5}}""", (await http.GetJsonAsync("prompt")).Canon());
        sim.Revive();
        await http.WaitForHistoryAsync("e");
        var history = await http.GetJsonAsync("history");
        Assert.Equal(["z", "a", "b", "c", "e"], history.Select(p => p.Key));
        Assert.Equal("1.0", history["a"]!["prompt"]![0]!.Canon());
        Assert.Equal(["z", "a"], (await http.GetJsonAsync("history?max_items=2&offset=0")).Select(p => p.Key));
        Assert.Equal(["c", "e"], (await http.GetJsonAsync("history?max_items=2")).Select(p => p.Key));
        Assert.Equal(["b", "c", "e"], (await http.GetJsonAsync("history?offset=2")).Select(p => p.Key));
    }

    [Fact]
    public async Task InvalidJson_PromptQueueHistoryFree_500PlainText_InterruptIgnores()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        foreach (var path in new[] { "prompt", "queue", "history", "free", "api/prompt" })
        {
            using var content = new StringContent("{not json", Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(path, content);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal("500 Internal Server Error\n\nServer got itself in trouble", await response.Content.ReadAsStringAsync());
        }

        var (status, body) = await http.PostRawAsync("interrupt", "{not json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("", body);
    }

    [Fact]
    public async Task PostQueueHistoryInterruptFree_200EmptyBody()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        foreach (var (path, json) in new[]
        {
            ("queue", """{"clear": true}"""), ("queue", """{"delete": ["x"]}"""), ("history", """{"clear": true}"""),
            ("history", """{"delete": ["x"]}"""), ("interrupt", ""), ("interrupt", "{}"), ("free", """{"unload_models": true}"""),
            ("api/queue", """{"clear": true}"""),
        })
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(path, content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Body_OverMaxUploadSize_413()
    {
        var (sim, http) = await StartAsync(new ComfyUiSimulatorOptions { MaxUploadSizeMb = 0.001 });
        await using var _ = sim;
        using var __ = http;
        var (status, _) = await http.PostRawAsync("prompt", new JsonObject { ["prompt"] = Graphs.Sd15(text: new string('x', 2000)) }.ToJsonString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("\"max_upload_size\":1049.0", await http.GetStringAsync("features"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OriginGuard_LoopbackHostWithForeignOrigin_403Empty()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        using var foreign = new HttpRequestMessage(HttpMethod.Get, "queue");
        foreign.Headers.Add("Origin", "http://evil.example");
        using var refused = await http.SendAsync(foreign);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("", await refused.Content.ReadAsStringAsync());

        using var same = new HttpRequestMessage(HttpMethod.Get, "queue");
        same.Headers.Add("Origin", $"http://{sim.BaseAddress.Authority}");
        using var allowed = await http.SendAsync(same);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Routes_AlsoUnderApi_UnknownIs404_WrongMethod405()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        foreach (var path in new[] { "prompt", "queue", "history", "system_stats", "features", "object_info", "object_info/KSampler", "models", "models/checkpoints", "embeddings" })
        {
            Assert.Equal(await http.GetStringAsync(path), await http.GetStringAsync("api/" + path));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("nope")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.GetAsync("interrupt")).StatusCode);
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress, path: "api/ws");
        var frames = await ws.WaitAsync(f => f.Count >= 1, "status");
        Assert.Equal("status", frames[0].Type);
    }

    [Fact]
    public async Task History_UnknownId_EmptyObject200()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        using var response = await http.GetAsync("history/does-not-exist");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task History_EntryShape_PromptTupleWithoutSecretsStatusMeta()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        var extra = new JsonObject { ["extra_data"] = new JsonObject { ["api_key_comfy_org"] = "secret", ["extra_pnginfo"] = new JsonObject { ["workflow"] = new JsonObject() } } };
        var id = await http.QueueAsync(Graphs.Sd15(steps: 1), "c1", extra);
        var entry = await http.WaitForHistoryAsync(id);
        Assert.Equal(["prompt", "outputs", "status", "meta"], entry.Select(p => p.Key));
        var tuple = entry["prompt"]!.AsArray();
        Assert.Equal(5, tuple.Count);
        Assert.Equal(id, tuple[1]!.GetValue<string>());
        Assert.False(tuple[3]!.AsObject().ContainsKey("api_key_comfy_org"));
        Assert.Equal("c1", tuple[3]!["client_id"]!.GetValue<string>());
        Assert.Equal("""{"9":{"node_id":"9","display_node":"9","parent_node":null,"real_node_id":"9"}}""", entry["meta"]!.Canon());
        Assert.Equal(["status_str", "completed", "messages"], entry["status"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["execution_start", "execution_cached", "execution_success"], entry["status"]!["messages"]!.AsArray().Select(m => m![0]!.GetValue<string>()));
    }

    [Fact]
    public async Task ObjectInfo_DeclaresLibraryAndModelLists()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        var info = await http.GetJsonAsync("object_info");
        string[] expected = ["CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "KSamplerAdvanced", "VAEDecode", "VAELoader", "UNETLoader",
            "DualCLIPLoader", "CLIPTextEncodeFlux", "FluxGuidance", "EmptySD3LatentImage", "ConditioningZeroOut", "LoraLoader", "SaveImage", "PreviewImage",
            "SaveImageWebsocket", "LoadImage", "ImageScale", "ImageInvert", "EmptyImage"];
        Assert.All(expected, name => Assert.True(info.ContainsKey(name), name));
        var ckpt = info["CheckpointLoaderSimple"]!.AsObject();
        Assert.Equal(["input", "input_order", "output", "output_is_list", "output_name", "name", "display_name", "description", "python_module", "category", "output_node", "output_tooltips"],
            ckpt.Select(p => p.Key));
        Assert.Equal("""["sd_xl_base_1.0.safetensors","sd_xl_refiner_1.0.safetensors","v1-5-pruned-emaonly.safetensors"]""", ckpt["input"]!["required"]!["ckpt_name"]![0]!.Canon());
        Assert.True(info["SaveImage"]!["output_node"]!.GetValue<bool>());
        Assert.Equal("""{"prompt":"PROMPT","extra_pnginfo":"EXTRA_PNGINFO"}""", info["SaveImage"]!["input"]!["hidden"]!.Canon());
        Assert.Equal("""["flux1-dev.safetensors"]""", info["UNETLoader"]!["input"]!["required"]!["unet_name"]![0]!.Canon());
        Assert.Equal("{}", await http.GetStringAsync("object_info/Nope"));

        File.WriteAllBytes(Path.Combine(sim.ModelsDirectory, "checkpoints", "new.safetensors"), [0]);
        var one = await http.GetJsonAsync("object_info/CheckpointLoaderSimple");
        Assert.Contains("new.safetensors", one["CheckpointLoaderSimple"]!["input"]!["required"]!["ckpt_name"]![0]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Models_FolderListsAndUnknownFolders404()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        Directory.CreateDirectory(Path.Combine(sim.ModelsDirectory, "checkpoints", "SDXL"));
        File.WriteAllBytes(Path.Combine(sim.ModelsDirectory, "checkpoints", "SDXL", "juggernaut.safetensors"), [0]);
        File.WriteAllBytes(Path.Combine(sim.ModelsDirectory, "checkpoints", "readme.txt"), [0]);
        Assert.Contains("\"checkpoints\"", await http.GetStringAsync("models"), StringComparison.Ordinal);
        Assert.Equal("""["SDXL/juggernaut.safetensors","sd_xl_base_1.0.safetensors","sd_xl_refiner_1.0.safetensors","v1-5-pruned-emaonly.safetensors"]""",
            await http.GetStringAsync("models/checkpoints"));
        Assert.Equal("""["clip_l.safetensors","t5xxl_fp16.safetensors"]""", await http.GetStringAsync("models/text_encoders"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("models/clip")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("models/unet")).StatusCode);
        Assert.Equal("""["easynegative"]""", await http.GetStringAsync("embeddings"));
    }

    [Fact]
    public async Task SystemStatsAndFeatures_ReportKnobs()
    {
        var (sim, http) = await StartAsync(new ComfyUiSimulatorOptions { GpuName = "NVIDIA H100 80GB HBM3", VramTotal = 84_000_000_000, Version = "0.3.99" });
        await using var _ = sim;
        using var __ = http;
        var stats = await http.GetJsonAsync("system_stats");
        Assert.Equal("0.3.99", stats["system"]!["comfyui_version"]!.GetValue<string>());
        Assert.Equal("posix", stats["system"]!["os"]!.GetValue<string>());
        var device = stats["devices"]!.AsArray().Single()!;
        Assert.Equal("cuda:0 NVIDIA H100 80GB HBM3 : cudaMallocAsync", device["name"]!.GetValue<string>());
        Assert.Equal(84_000_000_000, device["vram_total"]!.GetValue<long>());
        Assert.Equal(["name", "type", "index", "vram_total", "vram_free", "torch_vram_total", "torch_vram_free"], device.AsObject().Select(p => p.Key));
        Assert.Equal("""{"supports_preview_metadata":true,"max_upload_size":104857600.0}""", await http.GetStringAsync("features"));
    }

    [Fact]
    public async Task Free_FreeMemory_ClearsCacheAndUnloadsModel()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        await http.WaitForHistoryAsync(await http.QueueAsync(Graphs.Sd15(steps: 1), ws.ClientId));
        var (status, _) = await http.PostRawAsync("free", """{"unload_models": true, "free_memory": true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var second = await http.QueueAsync(Graphs.Sd15(steps: 1), ws.ClientId);
        var frames = await ws.WaitForDoneAsync(second);
        var cached = frames.Last(f => f.Type == "execution_cached");
        Assert.Empty(cached.Data!["nodes"]!.AsArray());
        Assert.Equal(2, sim.CheckpointLoads);
    }

    [Fact]
    public async Task CheckpointLoads_CountsOnlyWhenLoadedModelChanges()
    {
        var (sim, http) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await http.WaitForHistoryAsync(await http.QueueAsync(Graphs.Sd15(steps: 1), null));
        await http.WaitForHistoryAsync(await http.QueueAsync(Graphs.Sd15(seed: 2, steps: 1), null));
        Assert.Equal(1, sim.CheckpointLoads);
        await http.WaitForHistoryAsync(await http.QueueAsync(Graphs.Sd15(steps: 1, ckpt: "sd_xl_base_1.0.safetensors"), null));
        Assert.Equal(2, sim.CheckpointLoads);
        await http.WaitForHistoryAsync(await http.QueueAsync(Graphs.Flux(), null));
        Assert.Equal(3, sim.CheckpointLoads);
        await http.WaitForHistoryAsync(await http.QueueAsync(Graphs.Sd15(steps: 1), null));
        Assert.Equal(4, sim.CheckpointLoads);
        Assert.Equal(5, sim.PromptsExecuted);
    }
}
