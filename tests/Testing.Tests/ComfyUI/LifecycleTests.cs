using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Testing.ComfyUI;
using ComfyOperator.Testing.Time;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>Knobs (Die/Revive, Crash, Hang, delays), many instances, feature flags and preview frames.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task DieRevive_DropsSocketsRefusesConnections_SamePortKeepsHistory()
    {
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(200) });
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 3), ws.ClientId);
        await ws.WaitAsync(f => f.Any(x => x.Type == "executing"), "running");
        var address = sim.BaseAddress;

        sim.Die();
        await ws.WaitAsync(_ => ws.Closed, "socket dropped");
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("queue"));
        Assert.True(sim.IsDead);

        sim.Revive();
        Assert.Equal(address, sim.BaseAddress);
        // The prompt kept running while the network was down; its events were lost but history has it.
        var entry = await http.WaitForHistoryAsync(promptId);
        Assert.True(entry["status"]!["completed"]!.GetValue<bool>());
        await using var again = await WsProbe.ConnectAsync(sim.BaseAddress);
        Assert.Equal("status", (await again.WaitAsync(f => f.Count >= 1, "status"))[0].Type);
    }

    [Fact]
    public async Task Die_HoldsThePortWhileDead_ConnectionsRefusedAndReviveAnswersAgain()
    {
        await using var sim = await ComfyUiSimulator.StartAsync();
        var endpoint = new IPEndPoint(IPAddress.Parse(sim.BaseAddress.Host), sim.BaseAddress.Port);

        sim.Die();
        using (var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(endpoint));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        AssertPortHeld(endpoint);

        sim.Revive();
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("system_stats")).StatusCode);
    }

    [Fact]
    public async Task Crash_HoldsThePortUntilDisposed()
    {
        var sim = await ComfyUiSimulator.StartAsync();
        var endpoint = new IPEndPoint(IPAddress.Parse(sim.BaseAddress.Host), sim.BaseAddress.Port);

        sim.Crash();
        AssertPortHeld(endpoint);

        await sim.DisposeAsync();
        using var after = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Unspecified);
        after.Bind(endpoint);
    }

    /// <summary>
    /// Binds the way an outgoing connection takes its local port: without SO_REUSEADDR. (.NET sets
    /// SO_REUSEADDR itself when a ProtocolType.Tcp socket binds on Unix, but not for ProtocolType.Unspecified.)
    /// </summary>
    private static void AssertPortHeld(IPEndPoint endpoint)
    {
        using var squatter = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Unspecified);
        var inUse = Assert.Throws<SocketException>(() => squatter.Bind(endpoint));
        Assert.Equal(SocketError.AddressAlreadyInUse, inUse.SocketErrorCode);
    }

    [Fact]
    public async Task CrashRevive_ForgetsQueueHistoryAndCounter()
    {
        await using var sim = await ComfyUiSimulator.StartAsync();
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 1), null);
        await http.WaitForHistoryAsync(promptId);

        sim.Crash();
        sim.Revive();
        Assert.Equal("{}", await http.GetStringAsync($"history/{promptId}"));
        var (_, body) = await http.PostRawAsync("prompt", new JsonObject { ["prompt"] = Graphs.Sd15(steps: 1) }.ToJsonString());
        Assert.Contains("\"number\":0,", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrashWhileRunning_PromptNeverFinishes_NoHistoryNoFilesAfterRevive()
    {
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(20) });
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 50), ws.ClientId);
        await ws.WaitAsync(f => f.Any(x => x.Type == "progress"), "progress");

        sim.Crash();
        sim.Options.StepDelay = TimeSpan.Zero;
        sim.Revive();

        // A fresh process runs the next prompt; the killed one never reaches history or the output folder.
        using var http2 = new HttpClient { BaseAddress = sim.BaseAddress };
        var next = await http2.QueueAsync(Graphs.Sd15(steps: 1), null);
        await http2.WaitForHistoryAsync(next);
        Assert.Equal(1, sim.PromptsExecuted);
        Assert.Equal("{}", await http2.GetStringAsync($"history/{promptId}"));
        Assert.Single(Directory.EnumerateFiles(sim.OutputDirectory, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task HangWhileRunning_NoMoreProgressUntilRevive()
    {
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(20) });
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 1000), ws.ClientId);
        await ws.WaitAsync(f => f.Count(x => x.Type == "progress") >= 3, "progress");

        sim.Hang();
        var atHang = ws.Frames.Count(x => x.Type == "progress");
        await Assert.ThrowsAsync<TimeoutException>(() => ws.WaitAsync(f => f.Count(x => x.Type == "progress") > atHang + 1, "more progress", seconds: 2));

        sim.Options.StepDelay = TimeSpan.Zero;
        sim.Revive();
        await ws.WaitForDoneAsync(promptId);
    }

    [Fact]
    public async Task Hang_AcceptsPromptsAndAnswersSystemStats_ButNeverProgressesUntilRevive()
    {
        await using var sim = await ComfyUiSimulator.StartAsync();
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        sim.Hang();
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 1), ws.ClientId);
        await ws.WaitAsync(f => f.Count(x => x.Type == "status") >= 2, "queued status");
        using var stats = await http.GetAsync("system_stats");
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal("""{"exec_info":{"queue_remaining":1}}""", await http.GetStringAsync("prompt"));
        Assert.Equal("{}", await http.GetStringAsync($"history/{promptId}"));
        Assert.DoesNotContain(ws.Frames, f => f.Type == "execution_start");

        sim.Revive();
        await ws.WaitForDoneAsync(promptId);
    }

    [Fact]
    public async Task SystemStatsDelay_UsesTimeProvider()
    {
        var time = new ManualTimeProvider();
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { SystemStatsDelay = TimeSpan.FromMinutes(5), TimeProvider = time });
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        var pending = http.GetAsync("system_stats");
        await time.WaitForTimersAsync(1);
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(5));
        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StepAndModelLoadDelays_PaidOnTimeProvider()
    {
        var time = new ManualTimeProvider();
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions
        {
            StepDelay = TimeSpan.FromSeconds(1),
            ModelLoadDelay = TimeSpan.FromSeconds(30),
            TimeProvider = time,
        });
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 2), ws.ClientId);
        await ws.WaitAsync(f => f.Any(x => x.Type == "executing" && x.Node == "4"), "loader running");
        await time.WaitForTimersAsync(1);
        Assert.Equal(0, sim.CheckpointLoads);
        time.Advance(TimeSpan.FromSeconds(30));
        await ws.WaitAsync(f => f.Any(x => x.Type == "executing" && x.Node == "3"), "sampler running");
        Assert.Equal(1, sim.CheckpointLoads);
        for (var step = 1; step <= 2; step++)
        {
            await time.WaitForTimersAsync(1);
            Assert.Equal(step - 1, ws.Frames.Count(f => f.Type == "progress"));
            time.Advance(TimeSpan.FromSeconds(1));
            var expected = step;
            await ws.WaitAsync(f => f.Count(x => x.Type == "progress") == expected, $"progress {step}");
        }

        await ws.WaitForDoneAsync(promptId);
    }

    [Fact]
    public async Task ManyInstances_DistinctPortsAndLoopbackHosts()
    {
        var sims = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { Host = i < 3 ? "127.0.0.1" : $"127.0.0.{i}" })));
        try
        {
            Assert.Equal(6, sims.Select(s => s.BaseAddress).Distinct().Count());
            await Task.WhenAll(sims.Select(async s =>
            {
                using var http = new HttpClient { BaseAddress = s.BaseAddress };
                var id = await http.QueueAsync(Graphs.Sd15(steps: 1), null);
                await http.WaitForHistoryAsync(id);
                Assert.Equal(1, s.PromptsExecuted);
            }));
        }
        finally
        {
            await Task.WhenAll(sims.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task FeatureFlags_HelloGetsServerFlags_PreviewsAreType4_OthersType1()
    {
        await using var sim = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { PreviewMethod = "auto" });
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        var hello = new JsonObject { ["type"] = "feature_flags", ["data"] = new JsonObject { ["supports_preview_metadata"] = true } };
        await using var modern = await WsProbe.ConnectAsync(sim.BaseAddress, hello: hello);
        var flags = await modern.WaitAsync(f => f.Any(x => x.Type == "feature_flags"), "feature_flags reply");
        Assert.Equal("status", flags[0].Type);
        Assert.Equal("""{"supports_preview_metadata":true,"max_upload_size":104857600.0}""", flags.First(f => f.Type == "feature_flags").Data.Canon());

        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 2), modern.ClientId);
        var frames = await modern.WaitForDoneAsync(promptId);
        var previews = frames.Where(f => f.Binary is not null).ToList();
        Assert.Equal(2, previews.Count);
        var frame = previews[0].Binary!;
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32BigEndian(frame));
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4));
        var metadata = JsonNode.Parse(Encoding.UTF8.GetString(frame, 8, length))!.AsObject();
        Assert.Equal(["node_id", "prompt_id", "display_node_id", "parent_node_id", "real_node_id", "image_type"], metadata.Select(p => p.Key));
        Assert.Equal("3", metadata["node_id"]!.GetValue<string>());
        Assert.True(PngFile.IsPng(frame.AsSpan(8 + length)));
        // Preview after the step's progress message.
        var index = frames.IndexOf(previews[0]);
        Assert.Equal("progress", frames[index - 1].Type);

        await using var plain = await WsProbe.ConnectAsync(sim.BaseAddress);
        var second = await http.QueueAsync(Graphs.Sd15(seed: 8, steps: 1), plain.ClientId);
        var plainFrames = await plain.WaitForDoneAsync(second);
        var binary = plainFrames.Single(f => f.Binary is not null).Binary!;
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(binary));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(binary.AsSpan(4)));
        Assert.True(PngFile.IsPng(binary.AsSpan(8)));
    }

    [Fact]
    public async Task SaveImageWebsocket_SendsPngFramesAndNoHistoryOutput()
    {
        await using var sim = await ComfyUiSimulator.StartAsync();
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        await using var ws = await WsProbe.ConnectAsync(sim.BaseAddress);
        var prompt = Graphs.Sd15(steps: 1);
        prompt["9"] = JsonNode.Parse("""{"class_type": "SaveImageWebsocket", "inputs": {"images": ["8", 0]}}""");
        var promptId = await http.QueueAsync(prompt, ws.ClientId);
        var frames = await ws.WaitForDoneAsync(promptId);
        var binary = frames.Single(f => f.Binary is not null).Binary!;
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(binary));
        var decoded = PngFile.TryDecode(binary[8..])!;
        Assert.Equal(64, decoded.Width);
        Assert.Empty((await http.GetJsonAsync($"history/{promptId}"))[promptId]!["outputs"]!.AsObject());

        // Never cached: a resubmission executes it again.
        var again = await http.QueueAsync(prompt, ws.ClientId);
        var more = await ws.WaitForDoneAsync(again);
        Assert.Contains(more.SkipWhile(f => f.Data?["prompt_id"]?.GetValue<string>() != again), f => f.Type == "executing" && f.Node == "9");
    }

    [Fact]
    public async Task ReconnectSameClientId_OldSocketCloseOrphansNewOne_LikeComfyUi()
    {
        await using var sim = await ComfyUiSimulator.StartAsync();
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        var old = await WsProbe.ConnectAsync(sim.BaseAddress, "same-id");
        await old.WaitAsync(f => f.Count >= 1, "status");
        await using var fresh = await WsProbe.ConnectAsync(sim.BaseAddress, "same-id");
        await fresh.WaitAsync(f => f.Count >= 1, "status");
        await old.DisposeAsync();
        await WsProbe.WaitForNoClientsAsync(sim);
        var promptId = await http.QueueAsync(Graphs.Sd15(steps: 1), "same-id");
        await http.WaitForHistoryAsync(promptId);
        Assert.DoesNotContain(fresh.Frames, f => f.Type == "execution_start");
    }
}
