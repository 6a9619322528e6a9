using System.Net;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Comfy.Tests.Integration;

/// <summary>The client and session against the ComfyUI simulator of tests/Testing, flow by flow (docs/comfyui-protocol.md §5.6).</summary>
public sealed class SimulatorIntegrationTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private ComfyUiSimulator _sim = null!;
    private ComfyClient _client = null!;
    private ComfySession _session = null!;

    public async Task InitializeAsync()
    {
        _sim = await ComfyUiSimulator.StartAsync();
        _client = new ComfyClient(_sim.BaseAddress);
        _session = new ComfySession(_client, new ComfySessionOptions
        {
            HistoryPollInterval = TimeSpan.FromMilliseconds(50),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        });
        await _session.WaitUntilConnectedAsync(new CancellationTokenSource(Deadline).Token);
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        _client.Dispose();
        await _sim.DisposeAsync();
    }

    internal static JsonObject Sd15(long seed = 42, int steps = 4)
    {
        var graph = WorkflowGraph.Parse(ReferenceGraphs.Sd15);
        graph.SetInput("3", "seed", seed);
        graph.SetInput("3", "steps", steps);
        graph.SetInput("5", "width", 64);
        graph.SetInput("5", "height", 64);
        return graph.ToJsonObject();
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(Deadline).Token;

    private static async Task WaitFor(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Deadline);
        while (!condition())
        {
            await Task.Delay(10, cts.Token);
        }
    }

    [Fact]
    public async Task RunPromptAsync_FreshSd15_SucceedsInDocOrderAndWritesTheImage()
    {
        var events = new List<ComfyEvent>();

        var result = await _session.RunPromptAsync(Sd15(), new ComfyRunOptions { OnEvent = events.Add }, Timeout());

        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        Assert.False(result.FromHistoryPolling);
        Assert.Equal(result.PromptId, result.Accepted!.PromptId);
        var types = events.Select(e => e.Type).Where(t => t is not "progress_state").ToList();
        Assert.Equal("execution_start", types[0]);
        Assert.Equal("execution_cached", types[1]);
        Assert.Equal(["execution_success", "executing"], types[^2..]);
        Assert.Contains(events, e => e is ComfyExecutingEvent { Node: "3" });
        Assert.Equal(4, events.OfType<ComfyProgressEvent>().Count());
        Assert.True(events.OfType<ComfyExecutingEvent>().Last().IsPromptDone);
        var file = Assert.Single(result.Files);
        Assert.Equal("output", file.Type);
        await using var content = await _client.ViewAsync(file, Timeout());
        using var buffer = new MemoryStream();
        await content.Content.CopyToAsync(buffer);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, buffer.ToArray()[..4]);
    }

    [Fact]
    public async Task RunPromptAsync_IdenticalResubmission_IsFullyCachedWithSameFiles()
    {
        var first = await _session.RunPromptAsync(Sd15(seed: 5), cancellationToken: Timeout());
        var events = new List<ComfyEvent>();

        var second = await _session.RunPromptAsync(Sd15(seed: 5), new ComfyRunOptions { OnEvent = events.Add }, Timeout());

        Assert.Equal(ComfyPromptOutcome.Success, second.Outcome);
        var cached = Assert.Single(events.OfType<ComfyExecutionCachedEvent>());
        Assert.Equal(7, cached.Nodes.Count);
        Assert.DoesNotContain(events, e => e is ComfyExecutingEvent { Node: not null });
        Assert.Contains(events, e => e is ComfyExecutedEvent { Node: "9" });
        Assert.Equal(first.Files, second.Files);
    }

    [Fact]
    public async Task RunPromptAsync_NodeFails_CompletesErrorWithExecutionErrorPayload()
    {
        _sim.Options.FailAtNode = "3";

        var result = await _session.RunPromptAsync(Sd15(seed: 77), cancellationToken: Timeout());

        Assert.Equal(ComfyPromptOutcome.Error, result.Outcome);
        Assert.Equal("3", result.Error!.NodeId);
        Assert.Equal("KSampler", result.Error.NodeType);
        Assert.Equal(ComfyPromptOutcome.Error, result.History!.Outcome);
    }

    [Fact]
    public async Task InterruptAsync_RunningPrompt_CompletesInterrupted()
    {
        _sim.Options.StepDelay = TimeSpan.FromMilliseconds(100);
        var promptId = Guid.NewGuid().ToString("D");
        var progressed = new TaskCompletionSource();
        var run = _session.RunPromptAsync(Sd15(seed: 8, steps: 200), new ComfyRunOptions
        {
            PromptId = promptId,
            OnEvent = e =>
            {
                if (e is ComfyProgressEvent)
                {
                    progressed.TrySetResult();
                }
            },
        }, Timeout());
        await progressed.Task.WaitAsync(Deadline);

        await _client.InterruptAsync(promptId, Timeout());

        var result = await run;
        Assert.Equal(ComfyPromptOutcome.Interrupted, result.Outcome);
        Assert.Equal("3", result.Interrupted!.NodeId);
        Assert.Equal(ComfyPromptOutcome.Interrupted, result.History!.Outcome);
    }

    [Fact]
    public async Task DeleteFromQueueAsync_PendingPrompt_IsRemovedWhileRunningOneFinishes()
    {
        // Long enough that the second prompt is still pending when it is deleted; sped up after.
        _sim.Options.StepDelay = TimeSpan.FromMilliseconds(20);
        var started = new TaskCompletionSource();
        var running = _session.RunPromptAsync(Sd15(seed: 9, steps: 1000), new ComfyRunOptions
        {
            OnEvent = e =>
            {
                if (e is ComfyExecutionStartEvent)
                {
                    started.TrySetResult();
                }
            },
        }, Timeout());

        // Queue the second one only once the first runs, so it is the pending one.
        await started.Task.WaitAsync(Deadline);
        var pendingId = Guid.NewGuid().ToString("D");
        using var pending = _session.Subscribe(pendingId);
        await _client.QueuePromptAsync(new ComfyPromptRequest { Prompt = Sd15(seed: 10), ClientId = _session.ClientId, PromptId = pendingId }, Timeout());
        pending.MarkSubmitted();
        Assert.Contains(pendingId, (await _client.GetQueueAsync(Timeout())).Pending.Select(p => p.PromptId));

        await _client.DeleteFromQueueAsync([pendingId], Timeout());

        Assert.False((await _client.GetQueueAsync(Timeout())).Contains(pendingId));
        _sim.Options.StepDelay = TimeSpan.Zero;
        Assert.Equal(ComfyPromptOutcome.Success, (await running).Outcome);
        Assert.Null(await _client.GetHistoryAsync(pendingId, Timeout()));
        Assert.False(pending.Completion.IsCompleted);
    }

    [Fact]
    public async Task QueuePromptAsync_UnknownClassType_RejectedAsInvalidPrompt()
    {
        var prompt = Sd15();
        prompt["20"] = new JsonObject { ["class_type"] = "NotInstalled", ["inputs"] = new JsonObject() };

        var ex = await Assert.ThrowsAsync<ComfyPromptRejectedException>(() => _client.QueuePromptAsync(new ComfyPromptRequest { Prompt = prompt }, Timeout()));

        Assert.Equal("invalid_prompt", ex.Error.Type);
        Assert.Contains("NotInstalled", ex.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueuePromptAsync_MissingInput_RejectedWithNodeError()
    {
        var prompt = Sd15();
        prompt["3"]!["inputs"]!.AsObject().Remove("steps");

        var ex = await Assert.ThrowsAsync<ComfyPromptRejectedException>(() => _client.QueuePromptAsync(new ComfyPromptRequest { Prompt = prompt }, Timeout()));

        Assert.Equal("prompt_outputs_failed_validation", ex.Error.Type);
        var node = ex.NodeErrors["3"];
        Assert.Equal("KSampler", node.ClassType);
        Assert.Equal(["9"], node.DependentOutputs);
        Assert.Contains(node.Errors, e => e.Type == "required_input_missing" && e.InputName == "steps");
    }

    [Fact]
    public async Task QueuePromptAsync_ModelNotOnWorker_RejectedValueNotInListAndGraphValidationAgrees()
    {
        var graph = WorkflowGraph.Parse(Sd15().ToJsonString());
        graph.SetInput("4", "ckpt_name", "missing.safetensors");
        var objectInfo = await _client.GetObjectInfoAsync(Timeout());

        var ex = await Assert.ThrowsAsync<ComfyPromptRejectedException>(() => _client.QueuePromptAsync(new ComfyPromptRequest { Prompt = graph.ToJsonObject() }, Timeout()));

        var error = Assert.Single(ex.NodeErrors["4"].Errors);
        Assert.Equal("value_not_in_list", error.Type);
        Assert.Equal("ckpt_name", error.InputName);
        Assert.Equal("missing.safetensors", error.ReceivedValue!.GetValue<string>());
        Assert.Contains(graph.Validate(objectInfo), i => i.Code == WorkflowIssueCodes.ValueNotInList && i.NodeId == "4");
    }

    [Fact]
    public async Task QueuePromptAsync_NoOutputNode_RejectedPromptNoOutputs()
    {
        var prompt = Sd15();
        prompt.Remove("9");

        var ex = await Assert.ThrowsAsync<ComfyPromptRejectedException>(() => _client.QueuePromptAsync(new ComfyPromptRequest { Prompt = prompt }, Timeout()));

        Assert.Equal("prompt_no_outputs", ex.Error.Type);
    }

    [Theory]
    [InlineData("sd15")]
    [InlineData("sdxl")]
    [InlineData("flux-dev")]
    public async Task Validate_ReferenceGraphsAgainstLiveObjectInfo_HaveNoIssues(string name)
    {
        var objectInfo = await _client.GetObjectInfoAsync(Timeout());
        var graph = WorkflowGraph.Parse(ReferenceGraphs.All[name]);

        Assert.Empty(graph.Validate(objectInfo));
        Assert.Equal(["9"], graph.FindOutputNodes(objectInfo).Select(n => n.Id));
        foreach (var model in graph.GetModelReferences())
        {
            Assert.Contains(model.FileName, (await _client.GetModelsAsync(model.Folder, Timeout()))!);
        }
    }

    [Fact]
    public async Task UploadImageAsync_ThenLoadImage_RunsOnTheUploadedFile()
    {
        var first = await _session.RunPromptAsync(Sd15(seed: 11), cancellationToken: Timeout());
        byte[] png;
        await using (var content = await _client.ViewAsync(first.Files[0], Timeout()))
        using (var buffer = new MemoryStream())
        {
            await content.Content.CopyToAsync(buffer);
            png = buffer.ToArray();
        }

        var upload = await _client.UploadImageAsync(new MemoryStream(png), "source.png", new ComfyUploadOptions { Subfolder = "runs", Overwrite = true }, Timeout());
        var graph = WorkflowGraph.Parse("""
            {"1": {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}},
             "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
             "3": {"class_type": "SaveImage", "inputs": {"filename_prefix": "inverted", "images": ["2", 0]}}}
            """);
        graph.SetInput("1", "image", upload.PromptValue);
        graph.ApplyFilenamePrefix("run-upload");

        var result = await _session.RunPromptAsync(graph.ToJsonObject(), cancellationToken: Timeout());

        Assert.Equal("runs/source.png", upload.PromptValue);
        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        var file = Assert.Single(result.Files);
        Assert.Equal("run-upload", file.Subfolder);
        Assert.True(File.Exists(Path.Combine(_sim.OutputDirectory, "run-upload", file.Filename)));
    }

    [Fact]
    public async Task ViewAsync_MissingFile_Throws404()
    {
        var ex = await Assert.ThrowsAsync<ComfyHttpException>(() => _client.ViewAsync(new ComfyFileRef("nope.png"), Timeout()));

        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task Session_SimulatorDiesMidRun_ReconnectsWithFreshClientIdAndGetsOutcomeFromHistory()
    {
        _sim.Options.StepDelay = TimeSpan.FromMilliseconds(30);
        var firstClientId = _session.ClientId;
        var progressed = new TaskCompletionSource();
        var run = _session.RunPromptAsync(Sd15(seed: 12, steps: 40), new ComfyRunOptions
        {
            OnEvent = e =>
            {
                if (e is ComfyProgressEvent)
                {
                    progressed.TrySetResult();
                }
            },
        }, Timeout());
        await progressed.Task.WaitAsync(Deadline);

        _sim.Die();
        await WaitFor(() => _session.State == ComfySessionState.Reconnecting);
        _sim.Revive();
        await _session.WaitUntilConnectedAsync(Timeout());

        var result = await run;
        Assert.NotEqual(firstClientId, _session.ClientId);
        Assert.True(_session.ConnectionCount >= 2);
        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        Assert.True(result.FromHistoryPolling);
        Assert.Single(result.Files);

        var after = await _session.RunPromptAsync(Sd15(seed: 13), cancellationToken: Timeout());
        Assert.False(after.FromHistoryPolling);
    }

    [Fact]
    public async Task Follow_PromptSubmittedUnderAnotherClientId_CompletesFromHistory()
    {
        _sim.Options.StepDelay = TimeSpan.FromMilliseconds(20);
        var promptId = Guid.NewGuid().ToString("D");
        await _client.QueuePromptAsync(new ComfyPromptRequest { Prompt = Sd15(seed: 21, steps: 10), ClientId = "a-previous-process", PromptId = promptId }, Timeout());

        using var followed = _session.Follow(promptId);
        var result = await followed.Completion.WaitAsync(Deadline);

        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        Assert.True(result.FromHistoryPolling);
        Assert.Single(result.Files);
    }

    [Fact]
    public async Task Follow_SessionOpenedUnderTheSubmittingClientId_GetsTheEventsAndCompletes()
    {
        _sim.Options.StepDelay = TimeSpan.FromMilliseconds(20);
        var promptId = Guid.NewGuid().ToString("D");

        // Held until the follower listens, so its events are not all sent before it connects.
        _sim.Hang();
        await _client.QueuePromptAsync(new ComfyPromptRequest { Prompt = Sd15(seed: 22, steps: 40), ClientId = "a-previous-process", PromptId = promptId }, Timeout());
        using var client = new ComfyClient(_sim.BaseAddress);
        // History is polled seldom: a poll that finds the prompt done ends the events, and this test is about
        // those the socket brings (a loaded machine's socket reads could trail a 50 ms poll to the end).
        await using var follower = new ComfySession(client, new ComfySessionOptions
        {
            ClientIdFactory = () => "a-previous-process",
            HistoryPollInterval = TimeSpan.FromSeconds(30),
        });
        await follower.WaitUntilConnectedAsync(Timeout());

        using var followed = follower.Follow(promptId);
        _sim.Revive();
        var events = new List<ComfyEvent>();
        await foreach (var ev in followed.ReadEventsAsync(Timeout()))
        {
            events.Add(ev);
        }

        var result = await followed.Completion.WaitAsync(Deadline);
        Assert.Equal("a-previous-process", follower.ClientId);
        Assert.Contains(events, e => e is ComfyProgressEvent { Value: 40.0 });
        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        Assert.Single(result.Files);
    }

    [Fact]
    public async Task RunPromptAsync_Submitting_GetsTheClientIdTheEventsGoTo()
    {
        string? announced = null;
        var result = await _session.RunPromptAsync(Sd15(seed: 23), new ComfyRunOptions
        {
            Submitting = (clientId, _) =>
            {
                announced = clientId;
                return Task.CompletedTask;
            },
        }, Timeout());

        Assert.Equal(_session.ClientId, announced);
        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        Assert.False(result.FromHistoryPolling);
    }

    [Fact]
    public async Task Follow_PromptTheWorkerNeverHad_CompletesLost()
    {
        using var followed = _session.Follow(Guid.NewGuid().ToString("D"));

        var result = await followed.Completion.WaitAsync(Deadline);

        Assert.Equal(ComfyPromptOutcome.Lost, result.Outcome);
    }

    [Fact]
    public async Task Session_SimulatorCrashesMidRun_PromptIsLost()
    {
        _sim.Options.StepDelay = TimeSpan.FromMilliseconds(30);
        var progressed = new TaskCompletionSource();
        var run = _session.RunPromptAsync(Sd15(seed: 14, steps: 40), new ComfyRunOptions
        {
            OnEvent = e =>
            {
                if (e is ComfyProgressEvent)
                {
                    progressed.TrySetResult();
                }
            },
        }, Timeout());
        await progressed.Task.WaitAsync(Deadline);

        _sim.Crash();
        _sim.Revive();

        var result = await run;
        Assert.Equal(ComfyPromptOutcome.Lost, result.Outcome);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 4)]
    public async Task RunPromptAsync_PreviewsEnabled_RoutesPreviewFramesToThePrompt(bool announceMetadata, int binaryType)
    {
        _sim.Options.PreviewMethod = "auto";
        await using var session = new ComfySession(_client, new ComfySessionOptions { SupportsPreviewMetadata = announceMetadata });
        var events = new List<ComfyEvent>();

        var result = await session.RunPromptAsync(Sd15(seed: 15), new ComfyRunOptions { OnEvent = events.Add }, Timeout());

        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        var previews = events.OfType<ComfyPreviewImageEvent>().ToList();
        Assert.NotEmpty(previews);
        Assert.All(previews, p =>
        {
            Assert.Equal(binaryType, p.BinaryType);
            Assert.Equal(result.PromptId, p.PromptId);
            Assert.False(p.Image.IsEmpty);
        });
        if (announceMetadata)
        {
            Assert.True(session.ServerFeatures!.SupportsPreviewMetadata);
        }
    }

    [Fact]
    public async Task RunPromptAsync_ServerSlowToReadTheHello_WaitsSoEveryPreviewNamesItsPrompt()
    {
        _sim.Options.PreviewMethod = "auto";
        _sim.Options.FeatureFlagsDelay = TimeSpan.FromMilliseconds(400);
        await using var session = new ComfySession(_client, new ComfySessionOptions { SupportsPreviewMetadata = true, FeatureFlagsReplyTimeout = TimeSpan.FromSeconds(10) });
        var events = new List<ComfyEvent>();

        var result = await session.RunPromptAsync(Sd15(seed: 16), new ComfyRunOptions { OnEvent = events.Add }, Timeout());

        Assert.Equal(ComfyPromptOutcome.Success, result.Outcome);
        var previews = events.OfType<ComfyPreviewImageEvent>().ToList();
        Assert.NotEmpty(previews);
        Assert.All(previews, p => Assert.Equal(4, p.BinaryType));
        Assert.All(previews, p => Assert.Equal(result.PromptId, p.PromptId));
    }

    [Fact]
    public async Task RunPromptAsync_ServerBeforeFeatureFlags_RunsWithTypeOnePreviews()
    {
        _sim.Options.PreviewMethod = "auto";
        _sim.Options.Version = "0.3.40";
        await using var session = new ComfySession(_client, new ComfySessionOptions { SupportsPreviewMetadata = true, FeatureFlagsReplyTimeout = TimeSpan.FromMilliseconds(300) });
        var events = new List<ComfyEvent>();

        var first = await session.RunPromptAsync(Sd15(seed: 17), new ComfyRunOptions { OnEvent = events.Add }, Timeout());
        var second = await session.RunPromptAsync(Sd15(seed: 18), cancellationToken: Timeout());

        Assert.Equal(ComfyPromptOutcome.Success, first.Outcome);
        Assert.Equal(ComfyPromptOutcome.Success, second.Outcome);
        Assert.Null(session.ServerFeatures);
        Assert.All(events.OfType<ComfyPreviewImageEvent>(), p => Assert.Equal(1, p.BinaryType));
        Assert.NotEmpty(events.OfType<ComfyPreviewImageEvent>());
    }

    [Fact]
    public async Task SystemCalls_Simulator_ReportGpuFeaturesAndModels()
    {
        var stats = await _client.GetSystemStatsAsync(Timeout());
        var features = await _client.GetFeaturesAsync(Timeout());
        var folders = await _client.GetModelFoldersAsync(Timeout());
        var ksampler = await _client.GetObjectInfoAsync("KSampler", Timeout());

        Assert.Contains(_sim.Options.GpuName, Assert.Single(stats.Devices).Name, StringComparison.Ordinal);
        Assert.Equal(_sim.Options.VramTotal, stats.Devices[0].VramTotal);
        Assert.Equal(104857600, features.MaxUploadSize);
        Assert.Contains("checkpoints", folders);
        Assert.Null(await _client.GetModelsAsync("unet", Timeout()));
        Assert.Contains("seed", ksampler!.Inputs.Keys);
        Assert.Null(await _client.GetObjectInfoAsync("NotAClass", Timeout()));
        Assert.Equal(0, await _client.GetQueueRemainingAsync(Timeout()));
    }
}
