using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Router.ComfyApi;

/// <summary>
/// Writes ComfyUI WebSocket frames (docs/comfyui-protocol.md §5.3, §5.5): the worker's messages again,
/// with the prompt id the client was given in place of the worker's, and the router's own
/// (<c>status</c>, the end of a prompt). A frame is written straight to UTF-8 from the typed message,
/// in ComfyUI's key order, into a buffer each thread reuses: the only allocation is the frame's bytes.
/// </summary>
internal static class ComfyMessages
{
    /// <summary>A buffer grown past this (a large <c>executed</c> output) is not kept for the next frame.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static ComfyFrame Text(string type, JsonObject data)
    {
        var json = BeginText(type);
        foreach (var (name, value) in data)
        {
            Write(json, name, value);
        }

        return EndText(json);
    }

    public static ComfyFrame Status(int queueRemaining, string? sid)
    {
        var json = BeginText("status");
        json.WriteStartObject("status");
        json.WriteStartObject("exec_info");
        json.WriteNumber("queue_remaining", queueRemaining);
        json.WriteEndObject();
        json.WriteEndObject();
        if (sid is not null)
        {
            json.WriteString("sid", sid);
        }

        return EndText(json);
    }

    public static ComfyFrame Done(string promptId)
    {
        var json = BeginText("executing");
        json.WriteNull("node");
        json.WriteNull("display_node");
        json.WriteString("prompt_id", promptId);
        return EndText(json) with { Final = true };
    }

    public static ComfyFrame Success(string promptId, long? timestamp)
    {
        var json = BeginText("execution_success");
        json.WriteString("prompt_id", promptId);
        Write(json, "timestamp", timestamp);
        return EndText(json);
    }

    /// <summary>
    /// The frame for one worker message about prompt <paramref name="promptId"/>, or null for messages that are
    /// not per prompt (status, feature flags). <paramref name="output"/> is an <c>executed</c> message's output
    /// as the client is to see it (its files named as <c>/view</c> serves them); other messages ignore it.
    /// </summary>
    public static ComfyFrame? From(ComfyEvent message, string promptId, bool previewMetadata, JsonObject? output) => message switch
    {
        ComfyExecutionStartEvent start => Started(promptId, start.Timestamp),
        ComfyExecutionCachedEvent cached => Cached(promptId, cached),
        ComfyExecutingEvent { Node: null } => Done(promptId),
        ComfyExecutingEvent executing => Executing(promptId, executing),
        ComfyProgressEvent progress => Progress(promptId, progress),
        ComfyProgressStateEvent state => ProgressState(promptId, state),
        ComfyExecutedEvent executed => Executed(promptId, executed, output),
        ComfyExecutionSuccessEvent success => Success(promptId, success.Timestamp),
        ComfyExecutionErrorEvent error => Error(promptId, error),
        ComfyExecutionInterruptedEvent interrupted => Interrupted(promptId, interrupted.NodeId, interrupted.NodeType, interrupted.Executed, interrupted.Timestamp),
        ComfyPreviewImageEvent preview => Preview(preview, promptId, previewMetadata),
        ComfyProgressTextEvent text => ProgressText(text),
        ComfyUnknownBinaryEvent binary => Binary(binary.BinaryType, [], binary.Payload),
        ComfyUnknownEvent unknown when unknown.PromptId is not null => WithPromptId(unknown, promptId),
        _ => null,
    };

    public static ComfyFrame Interrupted(string promptId, string? nodeId, string? nodeType, IReadOnlyList<string> executed, long? timestamp)
    {
        var json = BeginText("execution_interrupted");
        json.WriteString("prompt_id", promptId);
        json.WriteString("node_id", nodeId);
        json.WriteString("node_type", nodeType);
        Write(json, "executed", executed);
        Write(json, "timestamp", timestamp);
        return EndText(json);
    }

    /// <summary>An <c>execution_error</c> for a run that failed in the router (or whose worker's error message was not seen).</summary>
    public static ComfyFrame Error(string promptId, string? nodeId, string? nodeType, string message, string exceptionType, long timestamp) =>
        Error(promptId, new ComfyExecutionErrorEvent(nodeId, nodeType, [], message, exceptionType, [], null, [], timestamp));

    private static ComfyFrame Error(string promptId, ComfyExecutionErrorEvent error)
    {
        var json = BeginText("execution_error");
        json.WriteString("prompt_id", promptId);
        json.WriteString("node_id", error.NodeId);
        json.WriteString("node_type", error.NodeType);
        Write(json, "executed", error.Executed);
        json.WriteString("exception_message", error.ExceptionMessage);
        json.WriteString("exception_type", error.ExceptionType);
        Write(json, "traceback", error.Traceback);
        if (error.CurrentInputs is { } inputs)
        {
            Write(json, "current_inputs", inputs);
        }
        else
        {
            json.WriteStartObject("current_inputs");
            json.WriteEndObject();
        }

        Write(json, "current_outputs", error.CurrentOutputs);
        Write(json, "timestamp", error.Timestamp);
        return EndText(json);
    }

    private static ComfyFrame Started(string promptId, long? timestamp)
    {
        var json = BeginText("execution_start");
        json.WriteString("prompt_id", promptId);
        Write(json, "timestamp", timestamp);
        return EndText(json);
    }

    private static ComfyFrame Cached(string promptId, ComfyExecutionCachedEvent cached)
    {
        var json = BeginText("execution_cached");
        Write(json, "nodes", cached.Nodes);
        json.WriteString("prompt_id", promptId);
        Write(json, "timestamp", cached.Timestamp);
        return EndText(json);
    }

    private static ComfyFrame Executing(string promptId, ComfyExecutingEvent executing)
    {
        var json = BeginText("executing");
        json.WriteString("node", executing.Node);
        json.WriteString("display_node", executing.DisplayNode ?? executing.Node);
        json.WriteString("prompt_id", promptId);
        return EndText(json);
    }

    private static ComfyFrame Progress(string promptId, ComfyProgressEvent progress)
    {
        var json = BeginText("progress");
        json.WriteNumber("value", progress.Value);
        json.WriteNumber("max", progress.Max);
        json.WriteString("prompt_id", promptId);
        json.WriteString("node", progress.Node);
        return EndText(json);
    }

    /// <summary>The most frequent frame (every node's progress, many times per prompt): its property names are encoded once, for all frames.</summary>
    private static ComfyFrame ProgressState(string promptId, ComfyProgressStateEvent state)
    {
        var json = BeginText("progress_state");
        json.WriteString(Names.PromptId, promptId);
        json.WriteStartObject(Names.Nodes);
        foreach (var (key, node) in state.Nodes)
        {
            json.WriteStartObject(key);
            json.WriteNumber(Names.Value, node.Value);
            json.WriteNumber(Names.Max, node.Max);
            json.WriteString(Names.State, node.State);
            json.WriteString(Names.NodeId, node.NodeId);
            json.WriteString(Names.PromptId, promptId);
            json.WriteString(Names.DisplayNodeId, node.DisplayNodeId);
            json.WriteString(Names.ParentNodeId, node.ParentNodeId);
            json.WriteString(Names.RealNodeId, node.RealNodeId);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        return EndText(json);
    }

    private static ComfyFrame Executed(string promptId, ComfyExecutedEvent executed, JsonObject? output)
    {
        var json = BeginText("executed");
        json.WriteString("node", executed.Node);
        json.WriteString("display_node", executed.DisplayNode ?? executed.Node);
        Write(json, "output", output);
        json.WriteString("prompt_id", promptId);
        return EndText(json);
    }

    /// <summary>A message type the router does not model, with the client's prompt id in place of the worker's (or added last).</summary>
    private static ComfyFrame WithPromptId(ComfyUnknownEvent unknown, string promptId)
    {
        var json = BeginText(unknown.WireType);
        var replaced = false;
        if (unknown.Data is JsonObject data)
        {
            foreach (var (name, value) in data)
            {
                if (name == "prompt_id")
                {
                    json.WriteString(name, promptId);
                    replaced = true;
                }
                else
                {
                    Write(json, name, value);
                }
            }
        }

        if (!replaced)
        {
            json.WriteString("prompt_id", promptId);
        }

        return EndText(json);
    }

    /// <summary>Type 4 (metadata naming the client's prompt id) for clients that announced <c>supports_preview_metadata</c>, else type 1.</summary>
    private static ComfyFrame Preview(ComfyPreviewImageEvent preview, string promptId, bool previewMetadata)
    {
        if (!previewMetadata)
        {
            Span<byte> format = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(format, preview.MediaType == "image/png" ? 2u : 1u);
            return Binary(1, format, preview.Image);
        }

        // [4][metadata length][metadata][image]
        var (buffer, json) = Writer();
        json.WriteStartObject();
        json.WriteString("node_id", preview.NodeId);
        json.WriteString("prompt_id", promptId);
        json.WriteString("display_node_id", preview.DisplayNodeId);
        json.WriteString("parent_node_id", preview.ParentNodeId);
        json.WriteString("real_node_id", preview.RealNodeId);
        json.WriteString("image_type", preview.MediaType);
        json.WriteEndObject();
        json.Flush();
        var meta = buffer.WrittenSpan;
        var bytes = new byte[8 + meta.Length + preview.Image.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 4);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), (uint)meta.Length);
        meta.CopyTo(bytes.AsSpan(8));
        preview.Image.Span.CopyTo(bytes.AsSpan(8 + meta.Length));
        Release(buffer);
        return new ComfyFrame(true, bytes);
    }

    private static ComfyFrame ProgressText(ComfyProgressTextEvent text)
    {
        var node = Encoding.UTF8.GetBytes(text.NodeId);
        var body = Encoding.UTF8.GetBytes(text.Text);
        var header = new byte[4 + node.Length];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)node.Length);
        node.CopyTo(header, 4);
        return Binary(3, header, body);
    }

    private static ComfyFrame Binary(uint type, ReadOnlySpan<byte> header, ReadOnlyMemory<byte> payload)
    {
        var bytes = new byte[4 + header.Length + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, type);
        header.CopyTo(bytes.AsSpan(4));
        payload.Span.CopyTo(bytes.AsSpan(4 + header.Length));
        return new ComfyFrame(true, bytes);
    }

    private static class Names
    {
        public static readonly JsonEncodedText PromptId = JsonEncodedText.Encode("prompt_id");
        public static readonly JsonEncodedText Nodes = JsonEncodedText.Encode("nodes");
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
        public static readonly JsonEncodedText Max = JsonEncodedText.Encode("max");
        public static readonly JsonEncodedText State = JsonEncodedText.Encode("state");
        public static readonly JsonEncodedText NodeId = JsonEncodedText.Encode("node_id");
        public static readonly JsonEncodedText DisplayNodeId = JsonEncodedText.Encode("display_node_id");
        public static readonly JsonEncodedText ParentNodeId = JsonEncodedText.Encode("parent_node_id");
        public static readonly JsonEncodedText RealNodeId = JsonEncodedText.Encode("real_node_id");
    }

    /// <summary><c>{"type": type, "data": {</c>, the writer inside <c>data</c>.</summary>
    private static Utf8JsonWriter BeginText(string type)
    {
        var (_, json) = Writer();
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteStartObject("data");
        return json;
    }

    private static ComfyFrame EndText(Utf8JsonWriter json)
    {
        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        var buffer = t_buffer!;
        var frame = new ComfyFrame(false, buffer.WrittenSpan.ToArray());
        Release(buffer);
        return frame;
    }

    /// <summary>This thread's buffer, emptied, and its writer on it (JSON as <see cref="JsonNode.ToJsonString"/> writes it).</summary>
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Json) Writer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var json = t_writer ??= new Utf8JsonWriter(buffer);
        json.Reset(buffer);
        return (buffer, json);
    }

    private static void Release(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity > KeptBufferBytes)
        {
            t_buffer = null;
            t_writer = null;
        }
    }

    private static void Write(Utf8JsonWriter json, string name, JsonNode? value)
    {
        json.WritePropertyName(name);
        if (value is null)
        {
            json.WriteNullValue();
        }
        else
        {
            value.WriteTo(json);
        }
    }

    private static void Write(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Write(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
