using System.Buffers.Binary;
using System.Text;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Comfy.Tests.Events;

public sealed class ComfyMessageParserTests
{
    private const string Pid = "5f0c7c1e-3b1a-4a7e-9a51-2c1d0e4b9f10";

    [Fact]
    public void ParseText_FirstStatusWithSid_ReadsQueueAndSid()
    {
        var ev = Assert.IsType<ComfyStatusEvent>(ComfyMessageParser.ParseText(
            """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 3}}, "sid": "abc123"}}"""));
        Assert.Equal(3, ev.QueueRemaining);
        Assert.Equal("abc123", ev.Sid);
        Assert.Null(ev.PromptId);
    }

    [Fact]
    public void ParseText_ExecutionStart_ReadsPromptAndTimestamp()
    {
        var ev = Assert.IsType<ComfyExecutionStartEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "execution_start", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1760000000000}}"""));
        Assert.Equal(Pid, ev.PromptId);
        Assert.Equal(1760000000000, ev.Timestamp);
    }

    [Fact]
    public void ParseText_ExecutionCached_ReadsNodes()
    {
        var ev = Assert.IsType<ComfyExecutionCachedEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "execution_cached", "data": {"nodes": ["4", "6", "7"], "prompt_id": "{{{Pid}}}", "timestamp": 1760000000001}}"""));
        Assert.Equal(["4", "6", "7"], ev.Nodes);
    }

    [Fact]
    public void ParseText_ExecutingNode_IsNotDone()
    {
        var ev = Assert.IsType<ComfyExecutingEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "executing", "data": {"node": "3", "display_node": "3", "prompt_id": "{{{Pid}}}"}}"""));
        Assert.Equal("3", ev.Node);
        Assert.Equal("3", ev.DisplayNode);
        Assert.False(ev.IsPromptDone);
    }

    [Fact]
    public void ParseText_ExecutingNullNode_IsPromptDone()
    {
        var ev = Assert.IsType<ComfyExecutingEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "executing", "data": {"node": null, "prompt_id": "{{{Pid}}}"}}"""));
        Assert.True(ev.IsPromptDone);
    }

    [Fact]
    public void ParseText_ReconnectExecutingWithoutPromptId_IsNotPromptDone()
    {
        var ev = Assert.IsType<ComfyExecutingEvent>(ComfyMessageParser.ParseText("""{"type": "executing", "data": {"node": "3"}}"""));
        Assert.False(ev.IsPromptDone);
        Assert.Null(ev.PromptId);
    }

    [Fact]
    public void ParseText_Progress_ReadsStep()
    {
        var ev = Assert.IsType<ComfyProgressEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "progress", "data": {"value": 7, "max": 20, "prompt_id": "{{{Pid}}}", "node": "3"}}"""));
        Assert.Equal(7, ev.Value);
        Assert.Equal(20, ev.Max);
        Assert.Equal("3", ev.Node);
    }

    [Fact]
    public void ParseText_ProgressState_ReadsEveryNode()
    {
        var ev = Assert.IsType<ComfyProgressStateEvent>(ComfyMessageParser.ParseText(
            $$$"""
            {"type": "progress_state", "data": {"prompt_id": "{{{Pid}}}", "nodes": {
              "4": {"value": 1.0, "max": 1.0, "state": "finished", "node_id": "4", "prompt_id": "{{{Pid}}}", "display_node_id": "4", "parent_node_id": null, "real_node_id": "4"},
              "3": {"value": 5.0, "max": 20.0, "state": "running", "node_id": "3", "prompt_id": "{{{Pid}}}", "display_node_id": "3", "parent_node_id": null, "real_node_id": "3"}
            } } }
            """));
        Assert.Equal(2, ev.Nodes.Count);
        Assert.Equal("running", ev.Nodes["3"].State);
        Assert.Equal(5.0, ev.Nodes["3"].Value);
        Assert.Equal("finished", ev.Nodes["4"].State);
    }

    [Fact]
    public void ParseText_ExecutedSaveImage_ExtractsFiles()
    {
        var ev = Assert.IsType<ComfyExecutedEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "executed", "data": {"node": "9", "display_node": "9", "output": {"images": [{"filename": "ComfyUI_00001_.png", "subfolder": "job1", "type": "output"}]}, "prompt_id": "{{{Pid}}}"}}"""));
        var file = Assert.Single(ev.Files);
        Assert.Equal("ComfyUI_00001_.png", file.Filename);
        Assert.Equal("job1", file.Subfolder);
        Assert.Equal("output", file.Type);
        Assert.Equal("job1/ComfyUI_00001_.png", file.PromptValue);
    }

    [Fact]
    public void ParseText_ExecutionSuccess_ReadsPromptId()
    {
        var ev = Assert.IsType<ComfyExecutionSuccessEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "execution_success", "data": {"prompt_id": "{{{Pid}}}", "timestamp": 1760000004321}}"""));
        Assert.Equal(Pid, ev.PromptId);
        Assert.Equal(1760000004321, ev.Timestamp);
    }

    [Fact]
    public void ParseText_ExecutionError_ReadsFullPayload()
    {
        var ev = Assert.IsType<ComfyExecutionErrorEvent>(ComfyMessageParser.ParseText(
            $$$"""
            {"type": "execution_error", "data": {"prompt_id": "{{{Pid}}}", "node_id": "3", "node_type": "KSampler", "executed": ["4", "5"],
             "exception_message": "CUDA out of memory", "exception_type": "torch.OutOfMemoryError", "traceback": ["line 1", "line 2"],
             "current_inputs": {"seed": [42]}, "current_outputs": ["4", "5"], "timestamp": 1760000000100}}
            """));
        Assert.Equal("3", ev.NodeId);
        Assert.Equal("KSampler", ev.NodeType);
        Assert.Equal(["4", "5"], ev.Executed);
        Assert.Equal("CUDA out of memory", ev.ExceptionMessage);
        Assert.Equal("torch.OutOfMemoryError", ev.ExceptionType);
        Assert.Equal(2, ev.Traceback.Count);
        Assert.NotNull(ev.CurrentInputs);
        Assert.False(ev.IsBlocked);
    }

    [Fact]
    public void ParseText_ExecutionBlockedError_IsBlocked()
    {
        var ev = Assert.IsType<ComfyExecutionErrorEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "execution_error", "data": {"prompt_id": "{{{Pid}}}", "node_id": "5", "node_type": "X", "executed": [], "exception_message": "blocked", "exception_type": "ExecutionBlocked", "traceback": [], "current_inputs": [], "current_outputs": []}}"""));
        Assert.True(ev.IsBlocked);
    }

    [Fact]
    public void ParseText_ExecutionInterrupted_ReadsNode()
    {
        var ev = Assert.IsType<ComfyExecutionInterruptedEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "execution_interrupted", "data": {"prompt_id": "{{{Pid}}}", "node_id": "3", "node_type": "KSampler", "executed": ["4"], "timestamp": 1}}"""));
        Assert.Equal("3", ev.NodeId);
        Assert.Equal("KSampler", ev.NodeType);
        Assert.Equal(["4"], ev.Executed);
    }

    [Fact]
    public void ParseText_FeatureFlags_ReadsFloatUploadSize()
    {
        var ev = Assert.IsType<ComfyFeatureFlagsEvent>(ComfyMessageParser.ParseText(
            """{"type": "feature_flags", "data": {"supports_preview_metadata": true, "max_upload_size": 104857600.0}}"""));
        Assert.True(ev.Features.SupportsPreviewMetadata);
        Assert.Equal(104857600, ev.Features.MaxUploadSize);
    }

    [Fact]
    public void ParseText_UnknownType_IsUnknownEventNotError()
    {
        var ev = Assert.IsType<ComfyUnknownEvent>(ComfyMessageParser.ParseText(
            """{"type": "crystools.monitor", "data": {"cpu_utilization": 12.5}}"""));
        Assert.Equal("crystools.monitor", ev.Type);
        Assert.NotNull(ev.Data);
    }

    [Fact]
    public void ParseText_ExtraKeysAndStringNumbers_AreTolerated()
    {
        var ev = Assert.IsType<ComfyProgressEvent>(ComfyMessageParser.ParseText(
            $$$"""{"type": "progress", "data": {"value": "3", "max": 20, "prompt_id": "{{{Pid}}}", "node": 3, "newer_key": {"x": 1} } }"""));
        Assert.Equal(3, ev.Value);
        Assert.Equal("3", ev.Node);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"data": {}}""")]
    public void ParseText_NotAMessage_ThrowsProtocolException(string text)
    {
        Assert.Throws<ComfyProtocolException>(() => ComfyMessageParser.ParseText(text));
    }

    [Fact]
    public void ParseBinary_Type1Jpeg_ReadsFormatAndImage()
    {
        var frame = Frame(1, [.. BigEndian(1), 0xFF, 0xD8, 0xFF]);
        var ev = Assert.IsType<ComfyPreviewImageEvent>(ComfyMessageParser.ParseBinary(frame));
        Assert.Equal(1, ev.BinaryType);
        Assert.Equal("image/jpeg", ev.MediaType);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF }, ev.Image.ToArray());
        Assert.Null(ev.PromptId);
    }

    [Fact]
    public void ParseBinary_Type1Png_ReadsPngFormat()
    {
        var ev = Assert.IsType<ComfyPreviewImageEvent>(ComfyMessageParser.ParseBinary(Frame(1, [.. BigEndian(2), 0x89, 0x50])));
        Assert.Equal("image/png", ev.MediaType);
    }

    [Fact]
    public void ParseBinary_Type3Text_ReadsNodeAndText()
    {
        var node = Encoding.UTF8.GetBytes("12");
        var ev = Assert.IsType<ComfyProgressTextEvent>(ComfyMessageParser.ParseBinary(
            Frame(3, [.. BigEndian((uint)node.Length), .. node, .. Encoding.UTF8.GetBytes("Uploading… 50%")])));
        Assert.Equal("12", ev.NodeId);
        Assert.Equal("Uploading… 50%", ev.Text);
    }

    [Fact]
    public void ParseBinary_Type4WithMetadata_ReadsPromptAndNode()
    {
        var meta = Encoding.UTF8.GetBytes($$$"""{"node_id": "3", "prompt_id": "{{{Pid}}}", "display_node_id": "3", "parent_node_id": null, "real_node_id": "3", "image_type": "image/png"}""");
        var ev = Assert.IsType<ComfyPreviewImageEvent>(ComfyMessageParser.ParseBinary(
            Frame(4, [.. BigEndian((uint)meta.Length), .. meta, 0x89, 0x50, 0x4E, 0x47])));
        Assert.Equal(4, ev.BinaryType);
        Assert.Equal(Pid, ev.PromptId);
        Assert.Equal("3", ev.NodeId);
        Assert.Equal("image/png", ev.MediaType);
        Assert.Equal(4, ev.Image.Length);
    }

    [Fact]
    public void ParseBinary_UnknownType_KeepsPayload()
    {
        var ev = Assert.IsType<ComfyUnknownBinaryEvent>(ComfyMessageParser.ParseBinary(Frame(9, [1, 2, 3])));
        Assert.Equal(9u, ev.BinaryType);
        Assert.Equal(3, ev.Payload.Length);
    }

    [Fact]
    public void ParseBinary_TruncatedHeader_ThrowsProtocolException()
    {
        Assert.Throws<ComfyProtocolException>(() => ComfyMessageParser.ParseBinary(new byte[] { 0, 0 }));
        Assert.Throws<ComfyProtocolException>(() => ComfyMessageParser.ParseBinary(Frame(4, [.. BigEndian(100), 1, 2])));
        Assert.Throws<ComfyProtocolException>(() => ComfyMessageParser.ParseBinary(Frame(3, [.. BigEndian(50), 1])));
    }

    internal static byte[] Frame(uint type, byte[] payload) => [.. BigEndian(type), .. payload];

    internal static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
