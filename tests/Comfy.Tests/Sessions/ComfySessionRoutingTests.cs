using System.Net;
using System.Text;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Comfy.Tests.Fixtures;

namespace ComfyOperator.Comfy.Tests.Sessions;

/// <summary>Routing and the completion rule of docs/comfyui-protocol.md §5.6, fed with parsed frames (no socket).</summary>
public sealed class ComfySessionRoutingTests
{
    private const string Pid = "11111111-2222-4333-8444-555555555555";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static string HistoryEntry(string status, string messages) => $$$"""
        {"{{{Pid}}}": {"prompt": [1, "{{{Pid}}}", {}, {"client_id": "c"}, ["9"]],
          "outputs": {"9": {"images": [{"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"}]}},
          "status": {"status_str": "{{{status}}}", "completed": {{{(status == "success" ? "true" : "false")}}}, "messages": [{{{messages}}}]},
          "meta": {} } }
        """;

    private sealed class Worker
    {
        public volatile bool Done;
        public volatile string History = "{}";
        public volatile string Queue = """{"queue_running": [], "queue_pending": []}""";
        public int HistoryCalls;

        public FakeHttpHandler Handler() => new(request =>
        {
            var path = request.RequestUri!.AbsolutePath;
            string body;
            if (path.StartsWith("/history/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref HistoryCalls);
                body = Done ? History : "{}";
            }
            else
            {
                body = Queue;
            }

            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        });
    }

    private static (ComfySession Session, Worker Worker) Create(TimeSpan? pollInterval = null)
    {
        var worker = new Worker();
        var client = new ComfyClient(new HttpClient(worker.Handler()), new Uri("http://127.0.0.1:1"));
        var session = new ComfySession(client, new ComfySessionOptions { HistoryPollInterval = pollInterval ?? TimeSpan.FromHours(1) });
        return (session, worker);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Deadline);
        while (!condition())
        {
            await Task.Delay(5, cts.Token);
        }
    }

    private static void Feed(ComfySession session, params string[] frames)
    {
        foreach (var f in frames)
        {
            session.Dispatch(ComfyMessageParser.ParseText(f));
        }
    }

    [Fact]
    public async Task Dispatch_FreshRunInDocOrder_CompletesSuccessWithHistoryAndAllEvents()
    {
        var (session, worker) = Create();
        await using var _ = session;
        using var subscription = session.Subscribe(Pid);
        await WaitFor(() => Volatile.Read(ref worker.HistoryCalls) >= 1);
        worker.History = HistoryEntry("success", $$$"""["execution_success", {"prompt_id": "{{{Pid}}}", "timestamp": 2}]""");

        Feed(session,
            """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1}}}}""",
            $$$"""{"type": "execution_start", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1}}""",
            $$$"""{"type": "execution_cached", "data": {"nodes": [], "prompt_id": "{{{Pid}}}", "timestamp": 1}}""",
            $$$"""{"type": "executing", "data": {"node": "3", "display_node": "3", "prompt_id": "{{{Pid}}}"}}""",
            $$$"""{"type": "progress", "data": {"value": 1, "max": 2, "prompt_id": "{{{Pid}}}", "node": "3"}}""",
            $$$"""{"type": "executed", "data": {"node": "9", "display_node": "9", "output": {"images": [{"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"}]}, "prompt_id": "{{{Pid}}}"}}""",
            $$$"""{"type": "execution_success", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 2}}""",
            """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}}}""");
        Assert.False(subscription.Completion.IsCompleted);
        worker.Done = true;
        Feed(session, $$$"""{"type": "executing", "data": {"node": null, "prompt_id": "{{{Pid}}}"}}""");

        var completion = await subscription.Completion.WaitAsync(Deadline);
        Assert.Equal(ComfyPromptOutcome.Success, completion.Outcome);
        Assert.False(completion.FromHistoryPolling);
        Assert.Equal("ComfyUI_00001_.png", Assert.Single(completion.Files).Filename);
        var types = new List<string>();
        await foreach (var ev in subscription.ReadEventsAsync())
        {
            types.Add(ev.Type);
        }

        Assert.Equal(["execution_start", "execution_cached", "executing", "progress", "executed", "execution_success", "executing"], types);
        Assert.Equal(0, session.QueueRemaining);
    }

    [Fact]
    public async Task Follow_WithOnEvent_HandsEveryEventInOrderBeforeTheCompletionAndNoneToEvents()
    {
        var (session, worker) = Create();
        await using var _ = session;
        var handed = new List<string>();
        using var subscription = session.Follow(Pid, ev => handed.Add(ev.Type));
        await WaitFor(() => Volatile.Read(ref worker.HistoryCalls) >= 1);
        worker.History = HistoryEntry("success", $$$"""["execution_success", {"prompt_id": "{{{Pid}}}", "timestamp": 2}]""");

        Feed(session,
            $$$"""{"type": "execution_start", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1}}""",
            $$$"""{"type": "executing", "data": {"node": "3", "display_node": "3", "prompt_id": "{{{Pid}}}"}}""",
            $$$"""{"type": "progress", "data": {"value": 1, "max": 2, "prompt_id": "{{{Pid}}}", "node": "3"}}""",
            """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}}}""",
            $$$"""{"type": "execution_success", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 2}}""");
        Assert.Equal(["execution_start", "executing", "progress", "execution_success"], handed);
        worker.Done = true;
        Feed(session, $$$"""{"type": "executing", "data": {"node": null, "prompt_id": "{{{Pid}}}"}}""");

        var completion = await subscription.Completion.WaitAsync(Deadline);
        Assert.Equal(ComfyPromptOutcome.Success, completion.Outcome);
        Assert.Equal(["execution_start", "executing", "progress", "execution_success", "executing"], handed);
        Assert.False(subscription.Events.TryRead(out var _));
        Assert.True(subscription.Events.Completion.IsCompleted);
    }

    [Fact]
    public async Task Dispatch_ExecutionError_CompletesWithErrorPayload()
    {
        var (session, worker) = Create();
        await using var _ = session;
        using var subscription = session.Subscribe(Pid);
        await WaitFor(() => Volatile.Read(ref worker.HistoryCalls) >= 1);
        worker.Done = true;
        worker.History = HistoryEntry("error", "");

        Feed(session,
            $$$"""{"type": "execution_start", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1}}""",
            $$$"""{"type": "execution_error", "data": {"prompt_id": "{{{Pid}}}", "node_id": "3", "node_type": "KSampler", "executed": [], "exception_message": "boom", "exception_type": "RuntimeError", "traceback": [], "current_inputs": {}, "current_outputs": [], "timestamp": 2}}""",
            $$$"""{"type": "executing", "data": {"node": null, "prompt_id": "{{{Pid}}}"}}""");

        var completion = await subscription.Completion.WaitAsync(Deadline);
        Assert.Equal(ComfyPromptOutcome.Error, completion.Outcome);
        Assert.Equal("boom", completion.Error!.ExceptionMessage);
    }

    [Fact]
    public async Task Dispatch_BlockedErrorThenSuccess_IsSuccess()
    {
        var (session, worker) = Create();
        await using var _ = session;
        using var subscription = session.Subscribe(Pid);
        await WaitFor(() => Volatile.Read(ref worker.HistoryCalls) >= 1);
        worker.Done = true;
        worker.History = HistoryEntry("success", "");

        Feed(session,
            $$$"""{"type": "execution_error", "data": {"prompt_id": "{{{Pid}}}", "node_id": "5", "node_type": "X", "executed": [], "exception_message": "blocked", "exception_type": "ExecutionBlocked", "traceback": [], "current_inputs": [], "current_outputs": []}}""",
            $$$"""{"type": "execution_success", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 2}}""",
            $$$"""{"type": "executing", "data": {"node": null, "prompt_id": "{{{Pid}}}"}}""");

        Assert.Equal(ComfyPromptOutcome.Success, (await subscription.Completion.WaitAsync(Deadline)).Outcome);
    }

    [Fact]
    public async Task Dispatch_Interrupted_CompletesInterrupted()
    {
        var (session, worker) = Create();
        await using var _ = session;
        using var subscription = session.Subscribe(Pid);
        await WaitFor(() => Volatile.Read(ref worker.HistoryCalls) >= 1);
        worker.Done = true;
        worker.History = HistoryEntry("error", "");

        Feed(session,
            $$$"""{"type": "execution_interrupted", "data": {"prompt_id": "{{{Pid}}}", "node_id": "3", "node_type": "KSampler", "executed": ["4"], "timestamp": 2}}""",
            $$$"""{"type": "executing", "data": {"node": null, "prompt_id": "{{{Pid}}}"}}""");

        var completion = await subscription.Completion.WaitAsync(Deadline);
        Assert.Equal(ComfyPromptOutcome.Interrupted, completion.Outcome);
        Assert.Equal("3", completion.Interrupted!.NodeId);
    }

    [Fact]
    public async Task Dispatch_OtherPromptsAndUnknownTypes_ReachListenersNotTheSubscription()
    {
        var (session, _) = Create();
        await using var __ = session;
        using var subscription = session.Subscribe(Pid);
        var seen = new List<string>();
        using (session.Listen(e => seen.Add(e.Type)))
        {
            Feed(session,
                """{"type": "executing", "data": {"node": "3", "display_node": "3", "prompt_id": "someone-else"}}""",
                """{"type": "crystools.monitor", "data": {"cpu": 1}}""");
        }

        Assert.Equal(["executing", "crystools.monitor"], seen);
        Assert.False(subscription.Events.TryRead(out _));
    }

    [Fact]
    public async Task Dispatch_Type1PreviewWithoutPromptId_GoesToTheRunningPrompt()
    {
        var (session, _) = Create();
        await using var __ = session;
        using var subscription = session.Subscribe(Pid);

        Feed(session, $$$"""{"type": "execution_start", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1}}""");
        session.Dispatch(ComfyMessageParser.ParseBinary(new byte[] { 0, 0, 0, 1, 0, 0, 0, 1, 0xFF, 0xD8 }));

        Assert.True(subscription.Events.TryRead(out var start));
        Assert.IsType<ComfyExecutionStartEvent>(start);
        Assert.True(subscription.Events.TryRead(out var preview));
        Assert.Equal(Pid, Assert.IsType<ComfyPreviewImageEvent>(preview).PromptId);
    }

    [Fact]
    public async Task Subscribe_WhileDisconnectedAndPromptNeitherQueuedNorInHistory_CompletesLost()
    {
        var (session, _) = Create(TimeSpan.FromMilliseconds(10));
        await using var __ = session;
        using var subscription = session.Subscribe(Pid);
        subscription.MarkSubmitted();

        var completion = await subscription.Completion.WaitAsync(Deadline);

        Assert.True(subscription.EventsMayBeLost);
        Assert.Equal(ComfyPromptOutcome.Lost, completion.Outcome);
        Assert.True(completion.FromHistoryPolling);
    }

    [Fact]
    public async Task Subscribe_WhileDisconnectedAndHistoryAppears_CompletesFromHistory()
    {
        var (session, worker) = Create(TimeSpan.FromMilliseconds(10));
        await using var _ = session;
        worker.Queue = $$$"""{"queue_running": [[1, "{{{Pid}}}", {}, {}, ["9"]]], "queue_pending": []}""";
        using var subscription = session.Subscribe(Pid);
        subscription.MarkSubmitted();
        await WaitFor(() => Volatile.Read(ref worker.HistoryCalls) >= 3);
        Assert.False(subscription.Completion.IsCompleted);
        worker.History = HistoryEntry("success", "");
        worker.Done = true;

        var completion = await subscription.Completion.WaitAsync(Deadline);

        Assert.Equal(ComfyPromptOutcome.Success, completion.Outcome);
        Assert.True(completion.FromHistoryPolling);
        Assert.Single(completion.Files);
    }
}
