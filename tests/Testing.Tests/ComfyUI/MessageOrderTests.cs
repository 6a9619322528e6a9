using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>Pins the ws message sequences of docs/comfyui-protocol.md §5.6 (client_id set, previews off).</summary>
public sealed class MessageOrderTests
{
    private static readonly string[] Sd15Order = ["4", "5", "7", "6", "3", "8", "9"];

    private static async Task<(ComfyUiSimulator Sim, HttpClient Http, WsProbe Ws)> StartAsync(ComfyUiSimulatorOptions? options = null)
    {
        var sim = await ComfyUiSimulator.StartAsync(options);
        var http = new HttpClient { BaseAddress = sim.BaseAddress };
        var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        await ws.WaitAsync(f => f.Count >= 1, "first status");
        return (sim, http, ws);
    }

    /// <summary>Frames that belong to the prompt run (everything after the connect status), as "type:node" strings.</summary>
    private static List<string> Trace(List<WsProbe.Frame> frames) => frames.Skip(1).Select(f => f.Type switch
    {
        "executing" or "executed" or "progress" => $"{f.Type}:{f.Data!["node"]?.GetValue<string>() ?? "null"}",
        _ => f.Type ?? "binary",
    }).ToList();

    private static List<string> NodeRun(string node, int steps = 0, bool ui = false)
    {
        var list = new List<string> { "progress_state", $"executing:{node}" };
        for (var i = 0; i < steps; i++)
        {
            list.Add("progress_state");
            list.Add($"progress:{node}");
        }

        if (ui)
        {
            list.Add($"executed:{node}");
        }

        list.Add("progress_state");
        return list;
    }

    [Fact]
    public async Task FreshRun_Sd15Graph_SendsDocumentedSequenceAndShapes()
    {
        var (sim, http, ws) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;

        var first = ws.Frames[0];
        Assert.Equal("status", first.Type);
        Assert.Equal(ws.ClientId, first.Data!["sid"]!.GetValue<string>());
        Assert.Equal(0, first.Data["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());

        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 3), ws.ClientId);
        var frames = await ws.WaitForDoneAsync(promptId);

        // The history entry exists when executing null arrives.
        var entry = await http.GetJsonAsync($"history/{promptId}");
        Assert.True(entry.ContainsKey(promptId));

        var expected = new List<string> { "status", "status", "execution_start", "execution_cached" };
        foreach (var node in Sd15Order)
        {
            expected.AddRange(NodeRun(node, node == "3" ? 3 : 0, node == "9"));
        }

        expected.AddRange(["execution_success", "status", "executing:null"]);
        Assert.Equal(expected, Trace(frames));

        var run = frames.Skip(1).ToList();
        Assert.Equal(1, run[0].Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        Assert.False(run[0].Data!.ContainsKey("sid"));
        Assert.Equal(1, run[1].Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        Assert.Equal(["prompt_id", "timestamp"], run[2].Data!.Select(p => p.Key));
        Assert.Equal(["nodes", "prompt_id", "timestamp"], run[3].Data!.Select(p => p.Key));
        Assert.Empty(run[3].Data!["nodes"]!.AsArray());
        var executing = run.First(f => f.Type == "executing");
        Assert.Equal(["node", "display_node", "prompt_id"], executing.Data!.Select(p => p.Key));
        var progress = run.Where(f => f.Type == "progress").ToList();
        Assert.Equal([1, 2, 3], progress.Select(p => p.Data!["value"]!.GetValue<int>()));
        Assert.All(progress, p => Assert.Equal(["value", "max", "prompt_id", "node"], p.Data!.Select(x => x.Key)));
        Assert.All(progress, p => Assert.Equal(3, p.Data!["max"]!.GetValue<int>()));
        var executed = run.Single(f => f.Type == "executed");
        Assert.Equal(["node", "display_node", "output", "prompt_id"], executed.Data!.Select(p => p.Key));
        var image = executed.Data!["output"]!["images"]![0]!;
        Assert.Equal("ComfyUI_00001_.png", image["filename"]!.GetValue<string>());
        Assert.Equal("", image["subfolder"]!.GetValue<string>());
        Assert.Equal("output", image["type"]!.GetValue<string>());
        var state = run.Last(f => f.Type == "progress_state");
        Assert.Equal(Sd15Order.Order(StringComparer.Ordinal), state.Data!["nodes"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        var samplerState = state.Data!["nodes"]!["3"]!.AsObject();
        Assert.Equal(["value", "max", "state", "node_id", "prompt_id", "display_node_id", "parent_node_id", "real_node_id"], samplerState.Select(p => p.Key));
        Assert.Equal("finished", samplerState["state"]!.GetValue<string>());
        Assert.Equal("3.0", samplerState["value"]!.Canon());
        var success = run[^3];
        Assert.Equal(["prompt_id", "timestamp"], success.Data!.Select(p => p.Key));
        Assert.Equal(0, run[^2].Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>());
        Assert.Equal(["node", "prompt_id"], run[^1].Data!.Select(p => p.Key));
        Assert.All(run.Where(f => f.Type is not null && !f.Type.StartsWith("execution_", StringComparison.Ordinal)),
            f => Assert.False(f.Data!.ContainsKey("timestamp"), f.ToString()));
        Assert.Equal(1, sim.PromptsExecuted);
    }

    [Fact]
    public async Task IdenticalResubmission_EverythingCached_NoExecutingAndOldFileNames()
    {
        var (sim, http, ws) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;

        var firstId = await http.QueueAsync(Graphs.Sd15(), ws.ClientId);
        await ws.WaitForDoneAsync(firstId);
        var before = ws.Frames.Count;
        var files = Directory.GetFiles(sim.OutputDirectory, "*", SearchOption.AllDirectories).Length;

        var secondId = await http.QueueAsync(Graphs.Sd15(), ws.ClientId);
        var frames = (await ws.WaitForDoneAsync(secondId)).Skip(before).ToList();

        Assert.Equal(
            ["status", "status", "execution_start", "execution_cached", "executed:9", "progress_state", "execution_success", "status", "executing:null"],
            Trace([new WsProbe.Frame("skip", null, null), .. frames]));
        Assert.Equal(["4", "5", "6", "7", "3", "8", "9"], frames[3].Data!["nodes"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("ComfyUI_00001_.png", frames[4].Data!["output"]!["images"]![0]!["filename"]!.GetValue<string>());
        Assert.Equal(files, Directory.GetFiles(sim.OutputDirectory, "*", SearchOption.AllDirectories).Length);
        var history = await http.GetJsonAsync($"history/{secondId}");
        Assert.Equal("ComfyUI_00001_.png", history[secondId]!["outputs"]!["9"]!["images"]![0]!["filename"]!.GetValue<string>());
        Assert.Equal(1, sim.CheckpointLoads);
    }

    [Fact]
    public async Task SeedChange_RerunsSamplerDecodeSave_LoaderAndEncodersCached()
    {
        var (sim, http, ws) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;

        await ws.WaitForDoneAsync(await http.QueueAsync(Graphs.Sd15(seed: 1, steps: 2), ws.ClientId));
        var before = ws.Frames.Count;
        var secondId = await http.QueueAsync(Graphs.Sd15(seed: 2, steps: 2), ws.ClientId);
        var frames = (await ws.WaitForDoneAsync(secondId)).Skip(before).ToList();

        Assert.Equal(["4", "5", "6", "7"], frames[3].Data!["nodes"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["3", "8", "9"], frames.Where(f => f.Type == "executing" && f.Data!["node"] is not null).Select(f => f.Node));
        Assert.Equal("ComfyUI_00002_.png", frames.Single(f => f.Type == "executed").Data!["output"]!["images"]![0]!["filename"]!.GetValue<string>());
        Assert.Equal(1, sim.CheckpointLoads);
    }

    [Fact]
    public async Task RuntimeError_FailAtNode_ExecutionErrorThenStatusThenExecutingNull()
    {
        var (sim, http, ws) = await StartAsync(new ComfyUiSimulatorOptions { FailAtNode = "3" });
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;

        var promptId = await http.QueueAsync(Graphs.Sd15(), ws.ClientId);
        var frames = await ws.WaitForDoneAsync(promptId);
        var trace = Trace(frames);

        Assert.DoesNotContain("execution_success", trace);
        Assert.Equal(["executing:3", "execution_error", "status", "executing:null"], trace[^4..]);
        var error = frames[^3].Data!;
        Assert.Equal(
            ["prompt_id", "node_id", "node_type", "executed", "exception_message", "exception_type", "traceback", "current_inputs", "current_outputs", "timestamp"],
            error.Select(p => p.Key));
        Assert.Equal("3", error["node_id"]!.GetValue<string>());
        Assert.Equal("KSampler", error["node_type"]!.GetValue<string>());
        Assert.Equal(["4", "5", "7", "6"], error["executed"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("RuntimeError", error["exception_type"]!.GetValue<string>());
        Assert.IsType<JsonArray>(error["traceback"]);
        Assert.Equal("[42]", error["current_inputs"]!["seed"]!.Canon());

        var entry = (await http.GetJsonAsync($"history/{promptId}"))[promptId]!;
        Assert.Equal("error", entry["status"]!["status_str"]!.GetValue<string>());
        Assert.False(entry["status"]!["completed"]!.GetValue<bool>());
        Assert.Equal(["execution_start", "execution_cached", "execution_error"],
            entry["status"]!["messages"]!.AsArray().Select(m => m![0]!.GetValue<string>()));
        Assert.Empty(entry["outputs"]!.AsObject());
    }

    [Fact]
    public async Task Interrupt_RunningPrompt_ExecutionInterruptedThenStatusThenExecutingNull()
    {
        var (sim, http, ws) = await StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromSeconds(30) });
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;

        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 50), ws.ClientId);
        await ws.WaitAsync(f => f.Any(x => x.Type == "executing" && x.Node == "3"), "sampler running");

        // An interrupt naming another prompt is a no-op.
        var (otherStatus, otherBody) = await http.PostRawAsync("interrupt", """{"prompt_id": "not-running"}""");
        Assert.Equal(System.Net.HttpStatusCode.OK, otherStatus);
        Assert.Equal("", otherBody);
        var (status, body) = await http.PostRawAsync("interrupt", $$"""{"prompt_id": "{{promptId}}"}""");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Equal("", body);

        var frames = await ws.WaitForDoneAsync(promptId);
        var trace = Trace(frames);
        Assert.Equal(["executing:3", "execution_interrupted", "status", "executing:null"], trace[^4..]);
        var interrupted = frames[^3].Data!;
        Assert.Equal(["prompt_id", "node_id", "node_type", "executed", "timestamp"], interrupted.Select(p => p.Key));
        Assert.Equal("3", interrupted["node_id"]!.GetValue<string>());
        Assert.Equal("KSampler", interrupted["node_type"]!.GetValue<string>());
        var entry = (await http.GetJsonAsync($"history/{promptId}"))[promptId]!;
        Assert.Equal("error", entry["status"]!["status_str"]!.GetValue<string>());
        Assert.Equal("execution_interrupted", entry["status"]!["messages"]![2]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task DeletePending_OnlyStatus_NoHistory_RunningUntouched()
    {
        var (sim, http, ws) = await StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromSeconds(30) });
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;

        var running = await http.QueueAsync(Graphs.Sd15(steps: 50), ws.ClientId);
        await ws.WaitAsync(f => f.Any(x => x.Type == "executing" && x.Node == "3"), "sampler running");
        var pending = await http.QueueAsync(Graphs.Sd15(seed: 9), ws.ClientId);
        await ws.WaitAsync(f => f.Any(x => x.Type == "status" && x.Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>() == 2), "status 2");
        var before = ws.Frames.Count;

        var (status, body) = await http.PostRawAsync("queue", $$"""{"delete": ["{{pending}}"]}""");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Equal("", body);
        var after = await ws.WaitAsync(f => f.Skip(before).Any(x => x.Type == "status"), "status after delete");
        Assert.All(after.Skip(before), f => Assert.True(f.Type is "status" or "progress_state" or "progress", f.ToString()));
        Assert.DoesNotContain(after, f => f.Data?["prompt_id"]?.GetValue<string>() == pending);
        Assert.Empty(await http.GetJsonAsync($"history/{pending}"));
        var queue = await http.GetJsonAsync("queue");
        Assert.Equal(running, queue["queue_running"]![0]![1]!.GetValue<string>());
        Assert.Empty(queue["queue_pending"]!.AsArray());

        await http.PostRawAsync("interrupt", "");
        await ws.WaitForDoneAsync(running);
    }

    [Fact]
    public async Task NoClientId_OnlyStatusAndBroadcastProgress()
    {
        var (sim, http, ws) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;

        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 2), clientId: null);
        await http.WaitForHistoryAsync(promptId);
        var frames = await ws.WaitAsync(f => f.Count(x => x.Type == "status") >= 4, "final status");
        Assert.All(frames, f => Assert.Contains(f.Type, new[] { "status", "progress_state", "progress" }));
        Assert.Equal(2, frames.Count(f => f.Type == "progress"));
    }

    [Fact]
    public async Task OtherSocket_GetsStatusButNoPromptMessages()
    {
        var (sim, http, ws) = await StartAsync();
        await using var _ = sim;
        using var __ = http;
        await using var ___ = ws;
        await using var other = await WsProbe.ConnectAsync(sim.BaseAddress);
        await other.WaitAsync(f => f.Count >= 1, "first status");

        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 2), ws.ClientId);
        await ws.WaitForDoneAsync(promptId);
        var frames = await other.WaitAsync(f => f.Count(x => x.Type == "status") >= 4, "three broadcasts");
        Assert.All(frames, f => Assert.Equal("status", f.Type));
    }

    [Fact]
    public async Task Reconnect_WhileRunning_SecondFrameIsExecutingWithNodeOnly()
    {
        var (sim, http, ws) = await StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromSeconds(30) });
        await using var _ = sim;
        using var __ = http;
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 50), ws.ClientId);
        await ws.WaitAsync(f => f.Any(x => x.Type == "executing" && x.Node == "3"), "sampler running");
        await ws.DisposeAsync();

        // The old socket's cleanup drops its client id (docs/comfyui-protocol.md §5.1): reconnecting before that
        // would orphan the new socket, as ComfyUI does.
        await WsProbe.WaitForNoClientsAsync(sim);
        await using var again = await WsProbe.ConnectAsync(sim.BaseAddress, ws.ClientId);
        var frames = await again.WaitAsync(f => f.Count >= 2, "status + executing");
        Assert.Equal("status", frames[0].Type);
        Assert.Equal("executing", frames[1].Type);
        Assert.Equal("""{"node":"3"}""", frames[1].Data!.Canon());

        await http.PostRawAsync("interrupt", "");
        await again.WaitForDoneAsync(promptId);
    }
}
