using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>ComfyUI's own API served by the router, used the way ComfyUI scripts use it, against two simulated workers.</summary>
public sealed class ComfyApiTests
{
    private const string OtherKey = "other-key-9876543210";

    internal static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];

    private static Task<SimulatedCluster> StartAsync(Action<Testing.ComfyUI.ComfyUiSimulatorOptions>? configure = null) =>
        SimulatedCluster.StartAsync(2, configure, new Dictionary<string, string?> { ["Router:ApiKeys:1"] = OtherKey });

    internal static async Task<string> QueuePromptAsync(HttpClient client, JsonObject graph, string clientId, string prefix = "", string? promptId = null)
    {
        var body = new JsonObject { ["prompt"] = graph, ["client_id"] = clientId };
        if (promptId is not null)
        {
            body["prompt_id"] = promptId;
        }

        using var response = await client.PostAsJsonAsync($"{prefix}/prompt", body);
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /prompt answered {(int)response.StatusCode}: {answer}");
        Assert.Empty(answer!["node_errors"]!.AsObject());
        Assert.True(answer["number"]!.GetValue<long>() > 0);
        return answer["prompt_id"]!.GetValue<string>();
    }

    internal static async Task<byte[]> FirstImageAsync(HttpClient client, string promptId, string prefix = "")
    {
        var history = await client.GetFromJsonAsync<JsonObject>($"{prefix}/history/{promptId}");
        var entry = history![promptId]!;
        Assert.Equal("success", entry["status"]!["status_str"]!.GetValue<string>());
        var image = entry["outputs"]!.AsObject().Select(o => o.Value!["images"]![0]!).First();
        Assert.Equal(promptId, image["subfolder"]!.GetValue<string>());
        var query = $"filename={Uri.EscapeDataString(image["filename"]!.GetValue<string>())}&subfolder={promptId}&type={image["type"]!.GetValue<string>()}";
        return await client.GetByteArrayAsync($"{prefix}/view?{query}");
    }

    [Fact]
    public async Task Prompt_ExtraPngInfo_PassedToTheWorkerAndWrittenIntoTheSavedPng()
    {
        await using var cluster = await StartAsync();
        var workflow = new JsonObject { ["last_node_id"] = 9, ["nodes"] = new JsonArray(), ["note"] = "from the editor" };
        var body = new JsonObject
        {
            ["prompt"] = Graphs.Sd15(steps: 1),
            ["client_id"] = "editor",
            ["extra_data"] = new JsonObject { ["extra_pnginfo"] = new JsonObject { ["workflow"] = workflow } },
        };

        using var response = await cluster.Client.PostAsJsonAsync("/prompt", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var promptId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["prompt_id"]!.GetValue<string>();
        await cluster.WaitForStatusAsync(promptId, "succeeded");
        var png = await FirstImageAsync(cluster.Client, promptId);

        // ComfyUI's SaveImage writes each extra_pnginfo entry as a tEXt chunk: keyword, NUL, JSON.
        var chunk = System.Text.Encoding.Latin1.GetBytes("tEXtworkflow\0" + workflow.ToJsonString());
        Assert.True(png.AsSpan().IndexOf(chunk) > 0, "the saved PNG holds the editor's workflow");
        var workerPromptId = (await cluster.GetRunAsync(promptId)).GetProperty("promptId").GetString()!;
        var received = cluster.Workers.Select(w => w.ExtraDataReceived(workerPromptId)).Single(e => e is not null)!;
        Assert.True(JsonNode.DeepEquals(workflow, received["extra_pnginfo"]?["workflow"]), $"the worker got {received}");
        Assert.NotEqual("editor", received["client_id"]?.GetValue<string>());
    }

    [Fact]
    public async Task Prompt_SeveralClientsAtOnce_EachSeesOnlyItsOwnPromptsAndGetsItsImages()
    {
        await using var cluster = await StartAsync();
        var clients = new List<ComfyWsClient>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add(await ComfyWsClient.ConnectAsync(cluster.Router, $"client-{i}"));
        }

        try
        {
            foreach (var ws in clients)
            {
                var status = await ws.WaitForAsync("status");
                Assert.Equal(ws.ClientId, status.Data!["sid"]!.GetValue<string>());
            }

            var submitted = await Task.WhenAll(clients.Select(async (ws, i) =>
                (Client: ws, Prompts: new[]
                {
                    await QueuePromptAsync(cluster.Client, Graphs.Sd15($"client {i} first", 2, seed: i), ws.ClientId),
                    await QueuePromptAsync(cluster.Client, Graphs.Sd15($"client {i} second", 2, seed: 100 + i), ws.ClientId),
                })));

            foreach (var (ws, prompts) in submitted)
            {
                foreach (var promptId in prompts)
                {
                    await ws.WaitForDoneAsync(promptId);
                    await ws.WaitForAsync("execution_success", d => d["prompt_id"]!.GetValue<string>() == promptId);
                    await ws.WaitForAsync("executed", d => d["prompt_id"]!.GetValue<string>() == promptId);
                    Assert.Equal(PngSignature, (await FirstImageAsync(cluster.Client, promptId))[..4]);
                }

                Assert.Equal(prompts.ToHashSet(), ws.PromptIds());
            }

            // Both workers took part: the fleet is one ComfyUI.
            var workers = new HashSet<string>();
            foreach (var promptId in submitted.SelectMany(s => s.Prompts))
            {
                workers.Add((await cluster.GetRunAsync(promptId)).GetProperty("worker").GetString()!);
            }

            Assert.Equal(2, workers.Count);
        }
        finally
        {
            foreach (var ws in clients)
            {
                await ws.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Prompt_UnderApiPrefixWithChosenPromptId_IsHonouredEverywhere()
    {
        await using var cluster = await StartAsync();
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "api-client", prefix: "/api");
        var chosen = Guid.NewGuid().ToString("D");

        var promptId = await QueuePromptAsync(cluster.Client, Graphs.Sd15("prefixed", 2), ws.ClientId, "/api", chosen);

        Assert.Equal(chosen, promptId);
        await ws.WaitForDoneAsync(chosen);
        Assert.Equal(PngSignature, (await FirstImageAsync(cluster.Client, chosen, "/api"))[..4]);
        var all = await cluster.Client.GetFromJsonAsync<JsonObject>("/api/history");
        Assert.True(all!.ContainsKey(chosen));
        using var again = await cluster.Client.PostAsJsonAsync("/api/prompt", new JsonObject { ["prompt"] = Graphs.Sd15(), ["prompt_id"] = chosen });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task WebSocket_ReconnectWithSameClientId_PicksUpThePrompt()
    {
        await using var cluster = await StartAsync(o => o.StepDelay = TimeSpan.FromMilliseconds(150));
        string promptId;
        await using (var first = await ComfyWsClient.ConnectAsync(cluster.Router, "reconnecting"))
        {
            promptId = await QueuePromptAsync(cluster.Client, Graphs.Sd15("reconnect", 8), first.ClientId);
            await first.WaitForAsync("execution_start", d => d["prompt_id"]!.GetValue<string>() == promptId);
        }

        await using var second = await ComfyWsClient.ConnectAsync(cluster.Router, "reconnecting");
        var status = await second.WaitForAsync("status");
        Assert.Equal(1, status.Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        await second.WaitForAsync("progress", d => d["prompt_id"]!.GetValue<string>() == promptId);
        await second.WaitForDoneAsync(promptId);
        await second.WaitForAsync("status", d => d["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>() == 0);
    }

    [Fact]
    public async Task WebSocket_RouterRestartsMidPrompt_ClientReconnectingWithItsIdGetsTheRestAndTheEnd()
    {
        await using var cluster = await StartAsync(o => o.StepDelay = TimeSpan.FromMilliseconds(150));
        string promptId;
        await using (var first = await ComfyWsClient.ConnectAsync(cluster.Router, "across-restart"))
        {
            promptId = await QueuePromptAsync(cluster.Client, Graphs.Sd15("restart", 12), first.ClientId);
            await first.WaitForAsync("progress", d => d["prompt_id"]!.GetValue<string>() == promptId);
        }

        // The workers hold still until the client is back, so the prompt cannot end during the restart
        // however long it takes (a prompt that ends while its client has no socket is only in /history).
        foreach (var worker in cluster.Workers)
        {
            worker.Hang();
        }

        await cluster.RestartRouterAsync();
        await using var second = await ComfyWsClient.ConnectAsync(cluster.Router, "across-restart");
        var status = await second.WaitForAsync("status");
        Assert.Equal(1, status.Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        foreach (var worker in cluster.Workers)
        {
            worker.Revive();
        }

        await second.WaitForAsync("progress", d => d["prompt_id"]!.GetValue<string>() == promptId);
        await second.WaitForDoneAsync(promptId);
    }

    [Fact]
    public async Task WebSocket_Previews_CarryTheClientsPromptIdInTheFormatTheClientAnnounced()
    {
        await using var cluster = await StartAsync(o => o.PreviewMethod = "auto");
        await using var modern = await ComfyWsClient.ConnectAsync(cluster.Router, "modern", previewMetadata: true);
        await using var plain = await ComfyWsClient.ConnectAsync(cluster.Router, "plain");
        await modern.WaitForAsync("feature_flags", d => d["supports_preview_metadata"]!.GetValue<bool>());

        var modernPrompt = await QueuePromptAsync(cluster.Client, Graphs.Sd15("modern", 3), modern.ClientId);
        var plainPrompt = await QueuePromptAsync(cluster.Client, Graphs.Sd15("plain", 3, seed: 7), plain.ClientId);
        await modern.WaitForDoneAsync(modernPrompt);
        await plain.WaitForDoneAsync(plainPrompt);

        var typed = modern.Messages.Where(m => m.BinaryType == 4).ToList();
        Assert.NotEmpty(typed);
        Assert.All(typed, m => Assert.Equal(modernPrompt, m.PreviewPromptId));
        Assert.DoesNotContain(modern.Messages, m => m.BinaryType == 1);
        var untyped = plain.Messages.Where(m => m.BinaryType == 1).ToList();
        Assert.NotEmpty(untyped);
        Assert.All(untyped, m => Assert.Equal(2u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(m.Payload)));
    }

    [Fact]
    public async Task WebSocket_SaveImageWebsocket_FramesReachTheClient()
    {
        await using var cluster = await StartAsync();
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "ws-save");
        var graph = Graphs.Sd15("over the socket", 2);
        graph["9"] = new JsonObject { ["class_type"] = "SaveImageWebsocket", ["inputs"] = new JsonObject { ["images"] = new JsonArray("8", 0) } };

        var promptId = await QueuePromptAsync(cluster.Client, graph, ws.ClientId);

        await ws.WaitForDoneAsync(promptId);
        var frame = Assert.Single(ws.Messages, m => m.BinaryType is 1 or 4);
        var png = frame.BinaryType == 1 ? frame.Payload![4..] : frame.Payload![(4 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.Payload))..];
        Assert.Equal(PngSignature, png[..4]);
    }

    [Fact]
    public async Task Queue_DeleteAndInterrupt_CancelOnlyThoseRuns()
    {
        await using var cluster = await StartAsync(o => o.StepDelay = TimeSpan.FromMilliseconds(200));
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "canceller");
        using var other = cluster.Router.CreateClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OtherKey);

        // Started before the next is submitted: two runs placed on one idle worker at once may reach it in either
        // order, and the one that reaches it first runs first (its 50 steps would end the other's wait).
        var running = await QueuePromptAsync(cluster.Client, Graphs.Sd15("interrupt me", 50), ws.ClientId);
        await ws.WaitForAsync("execution_start", d => d["prompt_id"]!.GetValue<string>() == running);
        var deleted = await QueuePromptAsync(cluster.Client, Graphs.Sd15("delete me", 50, seed: 2), ws.ClientId);
        var othersRun = await QueuePromptAsync(other, Graphs.Sd15("not yours", 50, seed: 3), "someone-else");

        var queue = await cluster.Client.GetFromJsonAsync<JsonObject>("/queue");
        var mine = queue!["queue_running"]!.AsArray().Concat(queue["queue_pending"]!.AsArray()).Select(i => i![1]!.GetValue<string>()).ToHashSet();
        Assert.Equal(new HashSet<string> { running, deleted }, mine);

        // Another caller's queue delete and interrupt do not touch this caller's runs.
        using (var foreign = await other.PostAsJsonAsync("/queue", new JsonObject { ["delete"] = new JsonArray(deleted) }))
        {
            foreign.EnsureSuccessStatusCode();
        }

        using (var cancel = await cluster.Client.PostAsJsonAsync("/queue", new JsonObject { ["delete"] = new JsonArray(deleted) }))
        {
            cancel.EnsureSuccessStatusCode();
        }

        await cluster.WaitForStatusAsync(deleted, "cancelled");
        using (var interrupt = await cluster.Client.PostAsJsonAsync("/interrupt", new JsonObject()))
        {
            interrupt.EnsureSuccessStatusCode();
        }

        await ws.WaitForAsync("execution_interrupted", d => d["prompt_id"]!.GetValue<string>() == running);
        await ws.WaitForDoneAsync(running);
        await cluster.WaitForStatusAsync(running, "cancelled");
        var history = await cluster.Client.GetFromJsonAsync<JsonObject>($"/history/{running}");
        Assert.Equal("error", history![running]!["status"]!["status_str"]!.GetValue<string>());
        await cluster.WaitForStatusAsync(othersRun, "running");
        using (var theirInterrupt = await other.PostAsJsonAsync("/interrupt", new JsonObject { ["prompt_id"] = othersRun }))
        {
            theirInterrupt.EnsureSuccessStatusCode();
        }

        await cluster.WaitForStatusAsync(othersRun, "cancelled");
    }

    [Fact]
    public async Task History_AndView_AreScopedToTheCaller()
    {
        await using var cluster = await StartAsync();
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "owner");
        var promptId = await QueuePromptAsync(cluster.Client, Graphs.Sd15("private", 2), ws.ClientId);
        await ws.WaitForDoneAsync(promptId);
        var image = await FirstImageAsync(cluster.Client, promptId);
        Assert.Equal(PngSignature, image[..4]);

        using var other = cluster.Router.CreateClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OtherKey);
        Assert.Empty((await other.GetFromJsonAsync<JsonObject>($"/history/{promptId}"))!);
        Assert.False((await other.GetFromJsonAsync<JsonObject>("/history"))!.ContainsKey(promptId));
        var history = await cluster.Client.GetFromJsonAsync<JsonObject>($"/history/{promptId}");
        var file = history![promptId]!["outputs"]!.AsObject().First().Value!["images"]![0]!["filename"]!.GetValue<string>();
        using var foreign = await other.GetAsync($"/view?filename={file}&subfolder={promptId}&type=output");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using var traversal = await cluster.Client.GetAsync($"/view?filename=..%2F..%2Frouter.db&subfolder={promptId}&type=output");
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);

        // The token query parameter is the same caller as the header (a browser's WebSocket and <img> cannot set headers).
        using var anonymous = cluster.Router.CreateClient();
        using (var refused = await anonymous.GetAsync($"/history/{promptId}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var byToken = await anonymous.GetByteArrayAsync($"/view?filename={file}&subfolder={promptId}&type=output&token={RouterFactory.ApiKey}");
        Assert.Equal(image, byToken);
    }

    [Fact]
    public async Task PostHistory_DeleteAndClear_RemoveOnlyTheCallersFinishedRunsAndTheirOutputs()
    {
        await using var cluster = await StartAsync(o => o.StepDelay = TimeSpan.FromMilliseconds(20));
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "forgetful");
        using var other = cluster.Router.CreateClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OtherKey);
        var deleted = await QueuePromptAsync(cluster.Client, Graphs.Sd15("delete me", 1), ws.ClientId);
        var cleared = await QueuePromptAsync(cluster.Client, Graphs.Sd15("clear me", 1, seed: 2), ws.ClientId);
        var theirs = await QueuePromptAsync(other, Graphs.Sd15("not yours", 1, seed: 3), "someone-else");
        foreach (var id in (string[])[deleted, cleared, theirs])
        {
            await cluster.WaitForStatusAsync(id, "succeeded");
        }

        var running = await QueuePromptAsync(cluster.Client, Graphs.Sd15("still running", 500, seed: 4), ws.ClientId);
        await cluster.WaitForStatusAsync(running, "running");
        var outputs = Path.Combine(cluster.DataDirectory, "outputs");
        Assert.NotEmpty(LocalDirectoryOutputStore.StoredFiles(outputs, deleted));

        using (var delete = await cluster.Client.PostAsJsonAsync("/history", new JsonObject { ["delete"] = new JsonArray(deleted, theirs, running) }))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }

        Assert.Empty((await cluster.Client.GetFromJsonAsync<JsonObject>($"/history/{deleted}"))!);
        using (var gone = await cluster.Client.GetAsync($"/v1/runs/{deleted}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        await Wait.UntilAsync(() => !LocalDirectoryOutputStore.StoredFiles(outputs, deleted).Any(), TimeSpan.FromSeconds(30), $"the deleted run {deleted}'s outputs to be deleted");
        Assert.Equal([cleared], (await cluster.Client.GetFromJsonAsync<JsonObject>("/history"))!.Select(e => e.Key));
        Assert.Equal("running", (await cluster.GetRunAsync(running)).GetProperty("status").GetString());

        using (var clear = await cluster.Client.PostAsJsonAsync("/api/history", new JsonObject { ["clear"] = true }))
        {
            Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
        }

        Assert.Empty((await cluster.Client.GetFromJsonAsync<JsonObject>("/history"))!);
        Assert.Equal("running", (await cluster.GetRunAsync(running)).GetProperty("status").GetString());
        Assert.True((await other.GetFromJsonAsync<JsonObject>("/history"))!.ContainsKey(theirs));
        Assert.Equal(PngSignature, (await FirstImageAsync(other, theirs))[..4]);

        using (var interrupt = await cluster.Client.PostAsJsonAsync("/interrupt", new JsonObject { ["prompt_id"] = running }))
        {
            interrupt.EnsureSuccessStatusCode();
        }

        await cluster.WaitForStatusAsync(running, "cancelled");
    }

    [Fact]
    public async Task Upload_ThenPromptNamingIt_RunsOnWhicheverWorker()
    {
        await using var cluster = await StartAsync();
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "uploader");
        using var form = new MultipartFormDataContent();
        var png = new ByteArrayContent(TestPng.Create(32, 32, 5));
        png.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(png, "image", "my photo.png");
        using var uploaded = await cluster.Client.PostAsync("/upload/image", form);
        uploaded.EnsureSuccessStatusCode();
        var name = (await uploaded.Content.ReadFromJsonAsync<JsonObject>())!["name"]!.GetValue<string>();

        var prompts = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var graph = new JsonObject
            {
                ["1"] = new JsonObject { ["class_type"] = "LoadImage", ["inputs"] = new JsonObject { ["image"] = name } },
                ["2"] = new JsonObject { ["class_type"] = "ImageInvert", ["inputs"] = new JsonObject { ["image"] = new JsonArray("1", 0) } },
                ["3"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["images"] = new JsonArray("2", 0), ["filename_prefix"] = $"inverted{i}" } },
            };
            prompts.Add(await QueuePromptAsync(cluster.Client, graph, ws.ClientId));
        }

        foreach (var promptId in prompts)
        {
            await ws.WaitForDoneAsync(promptId);
            Assert.Equal(PngSignature, (await FirstImageAsync(cluster.Client, promptId))[..4]);
        }

        var view = await cluster.Client.GetByteArrayAsync($"/view?filename={name}&type=input");
        Assert.Equal(TestPng.Create(32, 32, 5), view);
    }

    [Fact]
    public async Task UploadMask_OnAnUpload_PutsTheMaskIntoItsAlphaAndAWorkerLoadsTheResult()
    {
        await using var cluster = await StartAsync();
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "masker");
        var originalPng = TestPng.Create(16, 8, 7);
        var name = await UploadAsync(cluster.Client, "/upload/image", originalPng, "photo.png");
        var maskRgba = new byte[16 * 8 * 4];
        for (var i = 0; i < 16 * 8; i++)
        {
            maskRgba[(i * 4) + 3] = (byte)(i * 2);
        }

        var mask = new Router.ComfyApi.PngImage(16, 8, maskRgba, []).Encode();
        var reference = new JsonObject { ["filename"] = name, ["subfolder"] = "", ["type"] = "input" }.ToJsonString();

        var masked = await UploadAsync(cluster.Client, "/api/upload/mask", mask, "clipspace-mask.png", reference);

        var original = Router.ComfyApi.PngImage.Decode(originalPng);
        var result = Router.ComfyApi.PngImage.Decode(await cluster.Client.GetByteArrayAsync($"/view?filename={masked}&type=input"));
        Assert.Equal((16, 8), (result.Width, result.Height));
        for (var i = 0; i < 16 * 8; i++)
        {
            Assert.Equal(original.Rgba.AsSpan(i * 4, 3).ToArray(), result.Rgba.AsSpan(i * 4, 3).ToArray());
            Assert.Equal((byte)(i * 2), result.Rgba[(i * 4) + 3]);
        }

        var graph = new JsonObject
        {
            ["1"] = new JsonObject { ["class_type"] = "LoadImage", ["inputs"] = new JsonObject { ["image"] = masked } },
            ["2"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["images"] = new JsonArray("1", 0), ["filename_prefix"] = "masked" } },
        };
        var promptId = await QueuePromptAsync(cluster.Client, graph, ws.ClientId);
        await ws.WaitForDoneAsync(promptId);
        Assert.Equal(PngSignature, (await FirstImageAsync(cluster.Client, promptId))[..4]);
    }

    [Fact]
    public async Task UploadMask_NotAPngOrNoOriginal_IsRefusedWithTheReason()
    {
        await using var cluster = await StartAsync();
        var name = await UploadAsync(cluster.Client, "/upload/image", TestPng.Create(4, 4, 1), "photo.png");
        var reference = new JsonObject { ["filename"] = name, ["subfolder"] = "", ["type"] = "input" }.ToJsonString();

        using var jpeg = await PostFormAsync(cluster.Client, "/upload/mask", [0xFF, 0xD8, 0xFF, 0xE0, 0, 16], "mask.jpg", reference);
        Assert.Equal(HttpStatusCode.BadRequest, jpeg.StatusCode);
        Assert.Contains("only PNG", await jpeg.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var missing = new JsonObject { ["filename"] = "nothing.png", ["type"] = "input" }.ToJsonString();
        using var orphan = await PostFormAsync(cluster.Client, "/upload/mask", TestPng.Create(4, 4, 2), "mask.png", missing);
        Assert.Equal(HttpStatusCode.BadRequest, orphan.StatusCode);
        Assert.Contains("not found", await orphan.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var smaller = await PostFormAsync(cluster.Client, "/upload/mask", TestPng.Create(2, 2, 3), "mask.png", reference);
        Assert.Equal(HttpStatusCode.BadRequest, smaller.StatusCode);
    }

    private static async Task<string> UploadAsync(HttpClient client, string path, byte[] file, string fileName, string? originalRef = null)
    {
        using var response = await PostFormAsync(client, path, file, fileName, originalRef);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}: {body}");
        var answer = JsonNode.Parse(body)!;
        Assert.Equal("input", answer["type"]!.GetValue<string>());
        return answer["name"]!.GetValue<string>();
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, byte[] file, string fileName, string? originalRef)
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(content, "image", fileName);
        if (originalRef is not null)
        {
            form.Add(new StringContent(originalRef), "original_ref");
        }

        return await client.PostAsync(path, form);
    }

    [Fact]
    public async Task Prompt_BadGraph_AnswersComfyUisErrorShape()
    {
        await using var cluster = await StartAsync();
        var graph = Graphs.Sd15();
        graph["3"]!["inputs"]!["model"] = new JsonArray("404", 0);

        using var response = await cluster.Client.PostAsJsonAsync("/prompt", new JsonObject { ["prompt"] = graph });
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("prompt_outputs_failed_validation", body!["error"]!["type"]!.GetValue<string>());
        Assert.Equal("KSampler", body["node_errors"]!["3"]!["class_type"]!.GetValue<string>());
        Assert.NotEmpty(body["node_errors"]!["3"]!["errors"]!.AsArray());
        using var none = await cluster.Client.PostAsJsonAsync("/prompt", new JsonObject { ["client_id"] = "x" });
        Assert.Equal("no_prompt", (await none.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task NodeClasses_OnlySomeWorkersHaveOne_RunsGoOnlyThereAndUnknownOnesAreRefused()
    {
        var index = 0;
        await using var cluster = await StartAsync(o =>
        {
            if (index++ == 0)
            {
                o.MissingNodeClasses.Add("ImageInvert");
            }
        });
        var lacking = cluster.Workers[0].BaseAddress.ToString();
        await Wait.UntilAsync(
            async () => (await cluster.Client.GetFromJsonAsync<JsonObject>("/object_info"))!.ContainsKey("ImageInvert"),
            TimeSpan.FromSeconds(30),
            "the fleet's classes");

        var inverted = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var graph = Graphs.Sd15($"inverted {i}", 2, seed: i);
            graph["10"] = new JsonObject { ["class_type"] = "ImageInvert", ["inputs"] = new JsonObject { ["image"] = new JsonArray("8", 0) } };
            graph["9"]!["inputs"]!["images"] = new JsonArray("10", 0);
            inverted.Add(await QueuePromptAsync(cluster.Client, graph, "hetero"));
        }

        foreach (var id in inverted)
        {
            var run = await cluster.WaitForStatusAsync(id, "succeeded");
            Assert.NotEqual(lacking, run.GetProperty("worker").GetString());
        }

        var made = Graphs.Sd15();
        made["11"] = new JsonObject { ["class_type"] = "TotallyMadeUpNode", ["inputs"] = new JsonObject() };
        using var comfy = await cluster.Client.PostAsJsonAsync("/prompt", new JsonObject { ["prompt"] = made });
        var error = (await comfy.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal(HttpStatusCode.BadRequest, comfy.StatusCode);
        Assert.Equal("invalid_prompt", error["type"]!.GetValue<string>());
        Assert.Contains("TotallyMadeUpNode", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        using var rest = await cluster.Client.PostAsJsonAsync("/v1/runs", Graphs.Body(made.DeepClone()));
        Assert.Equal(HttpStatusCode.BadRequest, rest.StatusCode);
        Assert.Contains("TotallyMadeUpNode", await rest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FleetDocuments_AreMergedAcrossWorkers()
    {
        var index = 0;
        await using var cluster = await StartAsync(o =>
        {
            if (index++ == 0)
            {
                o.MissingNodeClasses.Add("ImageInvert");
            }
        });
        await Wait.UntilAsync(
            async () => (await cluster.Client.GetFromJsonAsync<JsonObject>("/api/object_info/ImageInvert"))!.ContainsKey("ImageInvert"),
            TimeSpan.FromSeconds(30),
            "ImageInvert in the merged /object_info");

        var stats = await cluster.Client.GetFromJsonAsync<JsonObject>("/system_stats");
        Assert.Equal(2, stats!["devices"]!.AsArray().Count);
        Assert.False(string.IsNullOrEmpty(stats["system"]!["comfyui_version"]!.GetValue<string>()));
        var checkpoints = await cluster.Client.GetFromJsonAsync<JsonArray>("/models/checkpoints");
        Assert.Contains("v1-5-pruned-emaonly.safetensors", checkpoints!.Select(c => c!.GetValue<string>()));
        Assert.Contains("checkpoints", (await cluster.Client.GetFromJsonAsync<JsonArray>("/api/models"))!.Select(c => c!.GetValue<string>()));
        var features = await cluster.Client.GetFromJsonAsync<JsonObject>("/features");
        Assert.True(features!["supports_preview_metadata"]!.GetValue<bool>());
        var queue = await cluster.Client.GetFromJsonAsync<JsonObject>("/prompt");
        Assert.Equal(0, queue!["exec_info"]!["queue_remaining"]!.GetValue<int>());
    }

    [Fact]
    public async Task ExperimentModels_FoldersAndFilesOfEveryWorkerEachOnce()
    {
        await using var cluster = await StartAsync();
        string[] own = ["only-on-first.safetensors", "only-on-second.safetensors"];
        for (var i = 0; i < 2; i++)
        {
            Directory.CreateDirectory(Path.Combine(cluster.Workers[i].ModelsDirectory, "loras"));
            await File.WriteAllBytesAsync(Path.Combine(cluster.Workers[i].ModelsDirectory, "loras", own[i]), new byte[10 + i]);
        }

        var folders = await cluster.Client.GetFromJsonAsync<JsonArray>("/api/experiment/models");
        var loras = await cluster.Client.GetFromJsonAsync<JsonArray>("/experiment/models/loras");
        var checkpoints = await cluster.Client.GetFromJsonAsync<JsonArray>("/experiment/models/checkpoints");
        using var unknown = await cluster.Client.GetAsync("/experiment/models/no_such_folder");

        Assert.Equal(1, folders!.Count(f => f!["name"]!.GetValue<string>() == "checkpoints"));
        Assert.DoesNotContain(folders!, f => f!["name"]!.GetValue<string>() == "configs");
        Assert.Subset(loras!.Select(f => f!["name"]!.GetValue<string>()).ToHashSet(), own.ToHashSet());
        Assert.Equal(11, loras!.Single(f => f!["name"]!.GetValue<string>() == own[1])!["size"]!.GetValue<long>());
        Assert.Equal(1, checkpoints!.Count(f => f!["name"]!.GetValue<string>() == "v1-5-pruned-emaonly.safetensors"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
