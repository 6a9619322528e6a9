using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.ComfyApi;
using ComfyOperator.Router.Tests.Support;
using ComfyOperator.Testing.ComfyUI;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// The frames the relay writes for a ComfyUI client are, byte for byte, the ones it built as <see cref="JsonObject"/>s
/// before (<see cref="JsonObjectComfyMessages"/>): over every message a simulated worker really sends for a prompt
/// (previews and <c>SaveImageWebsocket</c> frames included), and over the router's own frames.
/// </summary>
public sealed class ComfyMessagesTests
{
    /// <summary>Client prompt ids shorter and longer than the worker's, one the JSON encoder escapes.</summary>
    private static readonly string[] ClientPromptIds = ["p", "a-client-chosen-prompt-id-longer-than-any-uuid-0123456789", "<id&'é>"];

    [Fact]
    public async Task From_WritesWhatTheJsonObjectsWrote_ForEveryMessageOfASimulatedWorker()
    {
        await using var simulator = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { PreviewMethod = "auto" });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var messages = new List<ComfyEvent>();
        var graph = Graphs.Sd15("equivalence", steps: 3);
        graph["90"] = new JsonObject { ["class_type"] = "SaveImageWebsocket", ["inputs"] = new JsonObject { ["images"] = new JsonArray("8", 0) } };
        foreach (var previewMetadata in new[] { true, false })
        {
            // Twice: the second prompt's nodes are cached.
            var frames = await WorkerFrames.CaptureAsync(simulator.BaseAddress, $"equivalence-{previewMetadata}", previewMetadata, [graph, graph], cancel.Token);
            messages.AddRange(frames.Select(f => f.Binary ? ComfyMessageParser.ParseBinary(f.Bytes) : ComfyMessageParser.ParseText(f.Bytes)));
        }

        string[] expected =
        [
            "execution_start", "execution_cached", "executing", "progress", "progress_state", "executed", "execution_success",
            "binary:preview_image", "binary:preview_image_with_metadata",
        ];
        Assert.Empty(expected.Except(messages.Select(m => m.Type)));
        foreach (var message in messages)
        {
            AssertSameFrames(message);
        }
    }

    [Fact]
    public void From_WritesWhatTheJsonObjectsWrote_ForTheRestOfTheProtocol()
    {
        var node = new JsonObject { ["seed"] = 42, ["text"] = "a \"quoted\" prompt, ünïcode </script>", ["list"] = new JsonArray(1.5, null, "x") };
        ComfyEvent[] messages =
        [
            new ComfyExecutionStartEvent(null) { PromptId = "w" },
            new ComfyExecutionCachedEvent([], null) { PromptId = "w" },
            new ComfyExecutingEvent("3", null) { PromptId = "w" },
            new ComfyProgressEvent(0.1, 1e21, null) { PromptId = "w" },
            new ComfyProgressStateEvent(new Dictionary<string, ComfyNodeProgress>
            {
                ["3"] = new("3", 2.5, 20, "running", "3", null, "3"),
                ["ü<"] = new("ü<", 0, 0, "", null, "9", null),
            }) { PromptId = "w" },
            new ComfyExecutedEvent("9", null, new JsonObject { ["images"] = new JsonArray(new JsonObject { ["filename"] = "é.png", ["subfolder"] = "", ["type"] = "output" }), ["text"] = node.DeepClone() }, []) { PromptId = "w" },
            new ComfyExecutedEvent("9", "9", null, []) { PromptId = "w" },
            new ComfyExecutionErrorEvent("4", "KSampler", ["1", "2"], "Out of memory: \u0001", "torch.OutOfMemoryError", ["line 1", "line 2"], node.DeepClone(), ["0"], 1_700_000_000_000) { PromptId = "w" },
            new ComfyExecutionErrorEvent(null, null, [], null, null, [], null, [], null) { PromptId = "w" },
            new ComfyExecutionInterruptedEvent("4", "KSampler", ["1"], 5) { PromptId = "w" },
            new ComfyExecutionSuccessEvent(null) { PromptId = "w" },
            new ComfyProgressTextEvent("7", "loading ü"),
            new ComfyUnknownBinaryEvent(9, new byte[] { 1, 2, 3 }),
            new ComfyPreviewImageEvent(4, "image/webp", new byte[] { 5, 6 }, null, null, null, null) { PromptId = "w" },
            new ComfyUnknownEvent("custom", new JsonObject { ["a"] = 1, ["prompt_id"] = "w", ["b"] = node.DeepClone() }) { PromptId = "w" },
            new ComfyUnknownEvent("custom", new JsonObject { ["a"] = 1 }) { PromptId = "w" },
            new ComfyUnknownEvent("custom", new JsonArray(1)) { PromptId = "w" },
            new ComfyUnknownEvent("custom", null) { PromptId = "w" },
            new ComfyUnknownEvent("notification", new JsonObject { ["value"] = "not a prompt's" }),
            new ComfyStatusEvent(3, "sid"),
        ];
        foreach (var message in messages)
        {
            AssertSameFrames(message);
        }

        foreach (var id in ClientPromptIds)
        {
            AssertSame(JsonObjectComfyMessages.Done(id), ComfyMessages.Done(id));
            AssertSame(JsonObjectComfyMessages.Success(id, 12), ComfyMessages.Success(id, 12));
            AssertSame(JsonObjectComfyMessages.Error(id, "4", null, "The run failed: ü", "RouterError", 12), ComfyMessages.Error(id, "4", null, "The run failed: ü", "RouterError", 12));
            AssertSame(JsonObjectComfyMessages.Interrupted(id, null, null, [], null), ComfyMessages.Interrupted(id, null, null, [], null));
            AssertSame(JsonObjectComfyMessages.Status(2, id), ComfyMessages.Status(2, id));
        }

        AssertSame(JsonObjectComfyMessages.Status(0, null), ComfyMessages.Status(0, null));
        AssertSame(JsonObjectComfyMessages.Text("feature_flags", (JsonObject)node.DeepClone()), ComfyMessages.Text("feature_flags", (JsonObject)node.DeepClone()));
    }

    [Fact]
    public void From_LargeOutput_IsWrittenWhole_AndTheNextFrameIsUnaffected()
    {
        var images = new JsonArray([.. Enumerable.Range(0, 2000).Select(i => (JsonNode)new JsonObject { ["filename"] = $"image_{i:00000}_.png", ["subfolder"] = "", ["type"] = "output" })]);
        var executed = new ComfyExecutedEvent("9", "9", new JsonObject { ["images"] = images }, []) { PromptId = "w" };
        AssertSameFrames(executed);
        AssertSameFrames(new ComfyExecutingEvent("3", "3") { PromptId = "w" });
    }

    private static void AssertSameFrames(ComfyEvent message)
    {
        var output = (message as ComfyExecutedEvent)?.Output;
        foreach (var id in ClientPromptIds)
        {
            foreach (var previewMetadata in new[] { true, false })
            {
                var expected = JsonObjectComfyMessages.From(message, id, previewMetadata, static o => (JsonObject?)o?.DeepClone());
                var actual = ComfyMessages.From(message, id, previewMetadata, output);
                if (expected is null)
                {
                    Assert.Null(actual);
                    continue;
                }

                Assert.NotNull(actual);
                AssertSame(expected, actual);
            }
        }
    }

    private static void AssertSame(ComfyFrame expected, ComfyFrame actual)
    {
        Assert.Equal(expected.Binary, actual.Binary);
        Assert.Equal(expected.Final, actual.Final);
        if (!expected.Binary)
        {
            // Text first, for a readable failure.
            Assert.Equal(Encoding.UTF8.GetString(expected.Bytes.Span), Encoding.UTF8.GetString(actual.Bytes.Span));
        }

        Assert.Equal(expected.Bytes.ToArray(), actual.Bytes.ToArray());
    }
}
