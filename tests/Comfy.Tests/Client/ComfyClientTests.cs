using System.Net;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Tests.Fixtures;

namespace ComfyOperator.Comfy.Tests.Client;

public sealed class ComfyClientTests
{
    private static readonly Uri Base = new("http://127.0.0.1:8188");

    private static ComfyClient Create(FakeHttpHandler handler, ComfyClientOptions? options = null) =>
        new(new HttpClient(handler), Base, options);

    private static ComfyPromptRequest Request() => new() { Prompt = new JsonObject { ["9"] = new JsonObject { ["class_type"] = "SaveImage" } } };

    [Fact]
    public async Task QueuePromptAsync_ValueNotInList_ThrowsRejectedWithNodeDetails()
    {
        var handler = FakeHttpHandler.Json(HttpStatusCode.BadRequest, """
            {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                       "details": "Value not in list: ckpt_name: 'missing.safetensors' not in ['v1-5-pruned-emaonly.safetensors']", "extra_info": {}},
             "node_errors": {"4": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                                                "details": "ckpt_name: 'missing.safetensors' not in ['v1-5-pruned-emaonly.safetensors']",
                                                "extra_info": {"input_name": "ckpt_name",
                                                               "input_config": [["v1-5-pruned-emaonly.safetensors"], {"tooltip": "The name of the checkpoint (model) to load."}],
                                                               "received_value": "missing.safetensors"}}],
                                   "dependent_outputs": ["9"], "class_type": "CheckpointLoaderSimple"}}}
            """);
        using var client = Create(handler);

        var ex = await Assert.ThrowsAsync<ComfyPromptRejectedException>(() => client.QueuePromptAsync(Request()));

        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Equal("prompt_outputs_failed_validation", ex.Error.Type);
        Assert.Equal("Prompt outputs failed validation", ex.Error.Message);
        var node = ex.NodeErrors["4"];
        Assert.Equal("CheckpointLoaderSimple", node.ClassType);
        Assert.Equal(["9"], node.DependentOutputs);
        var error = Assert.Single(node.Errors);
        Assert.Equal("value_not_in_list", error.Type);
        Assert.Equal("ckpt_name", error.InputName);
        Assert.Equal("missing.safetensors", error.ReceivedValue!.GetValue<string>());
        Assert.Contains("ckpt_name", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no_prompt", "No prompt provided", "No prompt provided")]
    [InlineData("invalid_prompt", "Cannot execute because node Foo does not exist.", "Node ID '#3'")]
    [InlineData("invalid_prompt", "Cannot execute because a node is missing the class_type property.", "Node ID '#id'")]
    [InlineData("prompt_no_outputs", "Prompt has no outputs", "")]
    [InlineData("missing_node_type", "Node 'Foo' not found. The custom node may not be installed.", "Node ID '#3'")]
    [InlineData("invalid_prompt_id", "Invalid prompt_id format", "")]
    public async Task QueuePromptAsync_TopLevelError_KeepsTypeMessageDetails(string type, string message, string details)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["details"] = details, ["extra_info"] = new JsonObject { ["node_id"] = "3" } },
            ["node_errors"] = new JsonObject(),
        };
        using var client = Create(FakeHttpHandler.Json(HttpStatusCode.BadRequest, body.ToJsonString()));

        var ex = await Assert.ThrowsAsync<ComfyPromptRejectedException>(() => client.QueuePromptAsync(Request()));

        Assert.Equal(type, ex.Error.Type);
        Assert.Equal(message, ex.Error.Message);
        Assert.Equal(details, ex.Error.Details);
        Assert.Equal("3", ex.Error.ExtraInfo!["node_id"]!.GetValue<string>());
        Assert.Empty(ex.NodeErrors);
    }

    [Fact]
    public async Task QueuePromptAsync_ErrorAsPlainString_StillRejected()
    {
        using var client = Create(FakeHttpHandler.Json(HttpStatusCode.BadRequest, """{"error": "bad things"}"""));

        var ex = await Assert.ThrowsAsync<ComfyPromptRejectedException>(() => client.QueuePromptAsync(Request()));

        Assert.Equal("bad things", ex.Error.Message);
    }

    [Fact]
    public async Task QueuePromptAsync_500PlainText_ThrowsHttpExceptionWithBody()
    {
        var handler = new FakeHttpHandler(_ => new HttpResponseMessage(HttpStatusCode.InternalServerError) { Content = new StringContent("500 Internal Server Error\n\nServer got itself in trouble") });
        using var client = Create(handler);

        var ex = await Assert.ThrowsAsync<ComfyHttpException>(() => client.QueuePromptAsync(Request()));

        Assert.IsNotType<ComfyPromptRejectedException>(ex);
        Assert.Equal(HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Contains("Server got itself in trouble", ex.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueuePromptAsync_SuccessWithNodeErrors_ReportsDroppedOutputs()
    {
        var handler = FakeHttpHandler.Json(HttpStatusCode.OK, """
            {"prompt_id": "abc", "number": 7, "node_errors": {"12": {"errors": [{"type": "required_input_missing", "message": "Required input is missing", "details": "images", "extra_info": {"input_name": "images"}}], "dependent_outputs": ["12"], "class_type": "PreviewImage"}}}
            """);
        using var client = Create(handler);

        var accepted = await client.QueuePromptAsync(Request());

        Assert.Equal("abc", accepted.PromptId);
        Assert.Equal(7, accepted.Number);
        Assert.True(accepted.HasDroppedOutputs);
        Assert.Equal("images", accepted.NodeErrors["12"].Errors[0].InputName);
    }

    [Fact]
    public async Task QueuePromptAsync_AllFields_AreSentAsTheServerNamesThem()
    {
        var handler = FakeHttpHandler.Json(HttpStatusCode.OK, """{"prompt_id": "p1", "number": -3, "node_errors": {}}""");
        using var client = Create(handler);

        await client.QueuePromptAsync(Request() with
        {
            ClientId = "c1",
            PromptId = "p1",
            Front = true,
            ExtraData = new JsonObject { ["extra_pnginfo"] = new JsonObject() },
            PartialExecutionTargets = ["9"],
        });

        var body = JsonNode.Parse(handler.Requests[0].Body!)!.AsObject();
        Assert.Equal("c1", body["client_id"]!.GetValue<string>());
        Assert.Equal("p1", body["prompt_id"]!.GetValue<string>());
        Assert.True(body["front"]!.GetValue<bool>());
        Assert.NotNull(body["extra_data"]!["extra_pnginfo"]);
        Assert.Equal("9", body["partial_execution_targets"]![0]!.GetValue<string>());
        Assert.Equal("SaveImage", body["prompt"]!["9"]!["class_type"]!.GetValue<string>());
        Assert.Equal("/prompt", handler.Requests[0].Request.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task AnyCall_SharedClientWithOrigin_NeverSendsOrigin()
    {
        var handler = FakeHttpHandler.Json(HttpStatusCode.OK, """{"exec_info": {"queue_remaining": 2}}""");
        var http = new HttpClient(handler);
        http.DefaultRequestHeaders.Add("Origin", "http://evil.example");
        using var client = new ComfyClient(http, Base);

        var remaining = await client.GetQueueRemainingAsync();

        Assert.Equal(2, remaining);
        Assert.False(handler.Requests[0].Request.Headers.Contains("Origin"));
    }

    [Fact]
    public async Task GetHistoryAsync_EmptyObject_ReturnsNull()
    {
        using var client = Create(FakeHttpHandler.Json(HttpStatusCode.OK, "{}"));

        Assert.Null(await client.GetHistoryAsync("unknown"));
    }

    [Fact]
    public async Task GetHistoryAsync_InterruptedEntry_ReadsOutcomeAndOutputs()
    {
        using var client = Create(FakeHttpHandler.Json(HttpStatusCode.OK, """
            {"p1": {"prompt": [7, "p1", {"9": {}}, {"client_id": "abc"}, ["9"]],
                    "outputs": {"9": {"images": [{"filename": "a_00001_.png", "subfolder": "", "type": "output"}], "asset_id": "x"}},
                    "status": {"status_str": "error", "completed": false, "messages": [
                      ["execution_start", {"prompt_id": "p1", "timestamp": 1}],
                      ["execution_interrupted", {"prompt_id": "p1", "node_id": "3", "node_type": "KSampler", "executed": [], "timestamp": 2}]]},
                    "meta": {"9": {"node_id": "9", "display_node": "9", "parent_node": null, "real_node_id": "9"}}}}
            """));

        var entry = await client.GetHistoryAsync("p1");

        Assert.NotNull(entry);
        Assert.Equal(ComfyPromptOutcome.Interrupted, entry.Outcome);
        Assert.Equal("3", entry.Status!.Interrupted!.NodeId);
        Assert.Equal("abc", entry.Prompt!.ClientId);
        Assert.Equal(["9"], entry.Prompt.OutputsToExecute);
        Assert.Equal("a_00001_.png", Assert.Single(entry.Files).Filename);
    }

    [Fact]
    public async Task GetHistoryAsync_ErrorEntry_ExposesExecutionError()
    {
        using var client = Create(FakeHttpHandler.Json(HttpStatusCode.OK, """
            {"p1": {"prompt": [1, "p1", {}, {}, []], "outputs": {},
                    "status": {"status_str": "error", "completed": false, "messages": [
                      ["execution_error", {"prompt_id": "p1", "node_id": "3", "node_type": "KSampler", "executed": [], "exception_message": "boom", "exception_type": "RuntimeError", "traceback": [], "current_inputs": {}, "current_outputs": [], "timestamp": 2}]]},
                    "meta": {}}}
            """));

        var entry = await client.GetHistoryAsync("p1");

        Assert.Equal(ComfyPromptOutcome.Error, entry!.Outcome);
        Assert.Equal("boom", entry.Status!.Error!.ExceptionMessage);
    }

    [Fact]
    public async Task GetQueueAsync_UnsortedHeap_ReturnsPendingByPriority()
    {
        using var client = Create(FakeHttpHandler.Json(HttpStatusCode.OK, """
            {"queue_running": [[2, "r", {}, {"client_id": "c"}, ["9"]]],
             "queue_pending": [[5, "b", {}, {}, ["9"]], [3, "a", {}, {}, ["9"]], [-1, "front", {}, {}, ["9"]], "garbage"]}
            """));

        var queue = await client.GetQueueAsync();

        Assert.Equal("r", Assert.Single(queue.Running).PromptId);
        Assert.Equal(["front", "a", "b"], queue.Pending.Select(p => p.PromptId));
        Assert.True(queue.Contains("a"));
        Assert.False(queue.Contains("zzz"));
    }

    [Fact]
    public async Task InterruptAsync_WithPromptId_SendsItAndAcceptsEmptyBody()
    {
        var handler = new FakeHttpHandler(_ => new HttpResponseMessage(HttpStatusCode.OK));
        using var client = Create(handler);

        await client.InterruptAsync("p1");
        await client.InterruptAsync();

        Assert.Equal("""{"prompt_id":"p1"}""", handler.Requests[0].Body);
        Assert.Equal("{}", handler.Requests[1].Body);
    }

    [Fact]
    public async Task GetSystemStatsAsync_DocExample_ReadsSystemAndDevices()
    {
        using var client = Create(FakeHttpHandler.Json(HttpStatusCode.OK, """
            {"system": {"os": "posix", "ram_total": 134000000000, "ram_free": 120000000000, "comfyui_version": "0.3.64",
                        "python_version": "3.12.3", "pytorch_version": "2.8.0+cu128", "embedded_python": false, "argv": ["main.py", "--listen", "0.0.0.0"]},
             "devices": [{"name": "cuda:0 NVIDIA H100 80GB HBM3 : cudaMallocAsync", "type": "cuda", "index": 0,
                          "vram_total": 84000000000, "vram_free": 83000000000, "torch_vram_total": 0, "torch_vram_free": 0}]}
            """));

        var stats = await client.GetSystemStatsAsync();

        Assert.Equal("0.3.64", stats.ComfyUiVersion);
        Assert.Equal(134000000000, stats.RamTotal);
        var device = Assert.Single(stats.Devices);
        Assert.Equal(84000000000, device.VramTotal);
        Assert.Equal(0, device.Index);
        Assert.Contains("H100", device.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetModelsAsync_UnknownFolder_ReturnsNull()
    {
        using var client = Create(new FakeHttpHandler(_ => new HttpResponseMessage(HttpStatusCode.NotFound)));

        Assert.Null(await client.GetModelsAsync("unet"));
    }

    [Fact]
    public async Task AnyCall_ServerNeverAnswers_ThrowsTimeoutNotCancellation()
    {
        var handler = new HangingHandler();
        using var client = new ComfyClient(new HttpClient(handler), Base, new ComfyClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(50) });

        await Assert.ThrowsAsync<TimeoutException>(() => client.GetQueueAsync());
    }

    [Fact]
    public async Task AnyCall_CallerCancels_ThrowsOperationCanceled()
    {
        var handler = new HangingHandler();
        using var client = new ComfyClient(new HttpClient(handler), Base);
        using var cts = new CancellationTokenSource();
        var call = client.GetQueueAsync(cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public void GetWebSocketUri_HttpsWithPrefix_UsesWssAndClientIdQuery()
    {
        using var client = new ComfyClient(new Uri("https://worker.example:8443/"), new ComfyClientOptions { PathPrefix = "/api" });

        var uri = client.GetWebSocketUri("abc");

        Assert.Equal("wss://worker.example:8443/api/ws?clientId=abc", uri.ToString());
    }

    private sealed class HangingHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }
}
