using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Events;

/// <summary>
/// Turns ComfyUI WebSocket frames into typed events. Lenient by design: unknown types become
/// <see cref="ComfyUnknownEvent"/>, unknown keys are ignored, numbers sent as strings still read.
/// Only frames that are not messages at all throw <see cref="ComfyProtocolException"/>.
/// </summary>
public static class ComfyMessageParser
{
    /// <summary>Binary event type 1: preview image with a format header.</summary>
    public const uint PreviewImage = 1;

    /// <summary>Binary event type 3: progress text.</summary>
    public const uint Text = 3;

    /// <summary>Binary event type 4: preview image with a JSON metadata header.</summary>
    public const uint PreviewImageWithMetadata = 4;

    /// <summary>Parses a text frame given as UTF-8 bytes.</summary>
    public static ComfyEvent ParseText(ReadOnlySpan<byte> utf8)
    {
        if (ComfyFrequentMessages.TryRead(utf8) is { } frequent)
        {
            return frequent;
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(utf8);
        }
        catch (JsonException ex)
        {
            throw new ComfyProtocolException("A ComfyUI text frame is not JSON: " + ex.Message, ex);
        }

        return ParseMessage(root);
    }

    /// <summary>Parses a text frame.</summary>
    public static ComfyEvent ParseText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ParseText(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Parses a <c>{"type", "data"}</c> message already read as JSON.</summary>
    public static ComfyEvent ParseMessage(JsonNode? root)
    {
        if (root is not JsonObject obj || JsonRead.String(obj, "type") is not { } type)
        {
            throw new ComfyProtocolException("A ComfyUI text frame must be a JSON object with a string \"type\".");
        }

        return Parse(type, obj["data"]);
    }

    /// <summary>Parses one message given its type and data (also used for history <c>status.messages</c> pairs).</summary>
    public static ComfyEvent Parse(string type, JsonNode? dataNode)
    {
        ArgumentNullException.ThrowIfNull(type);
        var data = dataNode as JsonObject;
        if (data is null && type != "status")
        {
            return new ComfyUnknownEvent(type, dataNode);
        }

        var promptId = JsonRead.String(data, "prompt_id");
        return type switch
        {
            "status" => ParseStatus(data),
            "execution_start" => new ComfyExecutionStartEvent(JsonRead.Long(data, "timestamp")) { PromptId = promptId },
            "execution_cached" => new ComfyExecutionCachedEvent(JsonRead.StringList(data!["nodes"]), JsonRead.Long(data, "timestamp")) { PromptId = promptId },
            "executing" => new ComfyExecutingEvent(JsonRead.String(data, "node"), JsonRead.String(data, "display_node")) { PromptId = promptId },
            "progress" => new ComfyProgressEvent(JsonRead.Double(data, "value") ?? 0, JsonRead.Double(data, "max") ?? 0, JsonRead.String(data, "node")) { PromptId = promptId },
            "progress_state" => new ComfyProgressStateEvent(ParseNodeProgress(JsonRead.Object(data, "nodes"))) { PromptId = promptId },
            "executed" => ParseExecuted(data!, promptId),
            "execution_success" => new ComfyExecutionSuccessEvent(JsonRead.Long(data, "timestamp")) { PromptId = promptId },
            "execution_error" => ParseError(data!, promptId),
            "execution_interrupted" => new ComfyExecutionInterruptedEvent(
                JsonRead.String(data, "node_id"),
                JsonRead.String(data, "node_type"),
                JsonRead.StringList(data!["executed"]),
                JsonRead.Long(data, "timestamp"))
            { PromptId = promptId },
            "feature_flags" => new ComfyFeatureFlagsEvent(ComfyFeatures.Parse(data)),
            _ => new ComfyUnknownEvent(type, dataNode) { PromptId = promptId },
        };
    }

    /// <summary>Parses a binary frame (big-endian uint32 event type, then the payload, §5.5).</summary>
    public static ComfyEvent ParseBinary(ReadOnlyMemory<byte> frame)
    {
        var span = frame.Span;
        if (span.Length < 4)
        {
            throw new ComfyProtocolException($"A ComfyUI binary frame needs a 4-byte type header; got {span.Length} bytes.");
        }

        var eventType = BinaryPrimitives.ReadUInt32BigEndian(span);
        var payload = frame[4..];
        switch (eventType)
        {
            case PreviewImage:
                {
                    if (payload.Length < 4)
                    {
                        throw new ComfyProtocolException("A preview frame (type 1) needs a 4-byte image format.");
                    }

                    var format = BinaryPrimitives.ReadUInt32BigEndian(payload.Span);
                    var mediaType = format switch
                    {
                        1 => "image/jpeg",
                        2 => "image/png",
                        _ => "application/octet-stream",
                    };
                    return new ComfyPreviewImageEvent(1, mediaType, payload[4..], null, null, null, null);
                }

            case Text:
                {
                    var p = payload.Span;
                    if (p.Length < 4)
                    {
                        throw new ComfyProtocolException("A text frame (type 3) needs a 4-byte node id length.");
                    }

                    var length = BinaryPrimitives.ReadUInt32BigEndian(p);
                    if (length > (uint)(p.Length - 4))
                    {
                        throw new ComfyProtocolException($"A text frame (type 3) announces a {length}-byte node id but has {p.Length - 4} bytes.");
                    }

                    var nodeId = Encoding.UTF8.GetString(p.Slice(4, (int)length));
                    var text = Encoding.UTF8.GetString(p[(4 + (int)length)..]);
                    return new ComfyProgressTextEvent(nodeId, text);
                }

            case PreviewImageWithMetadata:
                {
                    var p = payload.Span;
                    if (p.Length < 4)
                    {
                        throw new ComfyProtocolException("A preview frame (type 4) needs a 4-byte metadata length.");
                    }

                    var length = BinaryPrimitives.ReadUInt32BigEndian(p);
                    if (length > (uint)(p.Length - 4))
                    {
                        throw new ComfyProtocolException($"A preview frame (type 4) announces {length} bytes of metadata but has {p.Length - 4}.");
                    }

                    JsonObject? meta;
                    try
                    {
                        meta = JsonNode.Parse(p.Slice(4, (int)length)) as JsonObject;
                    }
                    catch (JsonException ex)
                    {
                        throw new ComfyProtocolException("The metadata of a preview frame (type 4) is not JSON.", ex);
                    }

                    return new ComfyPreviewImageEvent(
                        4,
                        JsonRead.String(meta, "image_type") ?? "image/jpeg",
                        payload[(4 + (int)length)..],
                        JsonRead.String(meta, "node_id"),
                        JsonRead.String(meta, "display_node_id"),
                        JsonRead.String(meta, "parent_node_id"),
                        JsonRead.String(meta, "real_node_id"))
                    { PromptId = JsonRead.String(meta, "prompt_id") };
                }

            default:
                return new ComfyUnknownBinaryEvent(eventType, payload);
        }
    }

    private static ComfyStatusEvent ParseStatus(JsonObject? data)
    {
        var execInfo = JsonRead.Object(JsonRead.Object(data, "status"), "exec_info");
        return new ComfyStatusEvent((int?)JsonRead.Long(execInfo, "queue_remaining"), JsonRead.String(data, "sid"));
    }

    private static Dictionary<string, ComfyNodeProgress> ParseNodeProgress(JsonObject? nodes)
    {
        var result = new Dictionary<string, ComfyNodeProgress>(StringComparer.Ordinal);
        if (nodes is null)
        {
            return result;
        }

        foreach (var (id, value) in nodes)
        {
            var n = value as JsonObject;
            result[id] = new ComfyNodeProgress(
                JsonRead.String(n, "node_id") ?? id,
                JsonRead.Double(n, "value") ?? 0,
                JsonRead.Double(n, "max") ?? 0,
                JsonRead.String(n, "state") ?? "",
                JsonRead.String(n, "display_node_id"),
                JsonRead.String(n, "parent_node_id"),
                JsonRead.String(n, "real_node_id"));
        }

        return result;
    }

    private static ComfyExecutedEvent ParseExecuted(JsonObject data, string? promptId)
    {
        var output = JsonRead.Object(data, "output");
        return new ComfyExecutedEvent(
            JsonRead.String(data, "node"),
            JsonRead.String(data, "display_node"),
            output,
            ComfyOutputFiles.Extract(output))
        { PromptId = promptId };
    }

    private static ComfyExecutionErrorEvent ParseError(JsonObject data, string? promptId)
    {
        return new ComfyExecutionErrorEvent(
            JsonRead.String(data, "node_id"),
            JsonRead.String(data, "node_type"),
            JsonRead.StringList(data["executed"]),
            JsonRead.String(data, "exception_message"),
            JsonRead.String(data, "exception_type"),
            JsonRead.StringList(data["traceback"]),
            data["current_inputs"],
            JsonRead.StringList(data["current_outputs"]),
            JsonRead.Long(data, "timestamp"))
        { PromptId = promptId };
    }
}
