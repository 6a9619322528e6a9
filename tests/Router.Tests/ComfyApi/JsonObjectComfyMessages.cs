using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Events;
using ComfyOperator.Router.ComfyApi;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// The relay's frames as they were built before the router wrote them straight to UTF-8: one
/// <see cref="JsonObject"/> per message, serialized. <see cref="ComfyMessagesTests"/> holds
/// <see cref="ComfyMessages"/> to this output byte for byte.
/// </summary>
internal static class JsonObjectComfyMessages
{
    public static ComfyFrame Text(string type, JsonObject data) =>
        new(false, Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["data"] = data }.ToJsonString()));

    public static ComfyFrame Status(int queueRemaining, string? sid)
    {
        var data = new JsonObject { ["status"] = new JsonObject { ["exec_info"] = new JsonObject { ["queue_remaining"] = queueRemaining } } };
        if (sid is not null)
        {
            data["sid"] = sid;
        }

        return Text("status", data);
    }

    public static ComfyFrame Done(string promptId) =>
        Text("executing", new JsonObject { ["node"] = null, ["display_node"] = null, ["prompt_id"] = promptId }) with { Final = true };

    public static ComfyFrame Success(string promptId, long timestamp) =>
        Text("execution_success", new JsonObject { ["prompt_id"] = promptId, ["timestamp"] = timestamp });

    /// <summary>
    /// The frame for one worker message about prompt <paramref name="promptId"/>, or null for messages that are
    /// not per prompt (status, feature flags). <paramref name="output"/> rewrites an <c>executed</c> output.
    /// </summary>
    public static ComfyFrame? From(ComfyEvent message, string promptId, bool previewMetadata, Func<JsonObject?, JsonObject?> output) => message switch
    {
        ComfyExecutionStartEvent start => Text("execution_start", new JsonObject { ["prompt_id"] = promptId, ["timestamp"] = start.Timestamp }),
        ComfyExecutionCachedEvent cached => Text("execution_cached", new JsonObject
        {
            ["nodes"] = new JsonArray([.. cached.Nodes.Select(n => (JsonNode)n)]),
            ["prompt_id"] = promptId,
            ["timestamp"] = cached.Timestamp,
        }),
        ComfyExecutingEvent { Node: null } => Done(promptId),
        ComfyExecutingEvent executing => Text("executing", new JsonObject
        {
            ["node"] = executing.Node,
            ["display_node"] = executing.DisplayNode ?? executing.Node,
            ["prompt_id"] = promptId,
        }),
        ComfyProgressEvent progress => Text("progress", new JsonObject
        {
            ["value"] = progress.Value,
            ["max"] = progress.Max,
            ["prompt_id"] = promptId,
            ["node"] = progress.Node,
        }),
        ComfyProgressStateEvent state => Text("progress_state", new JsonObject
        {
            ["prompt_id"] = promptId,
            ["nodes"] = new JsonObject(state.Nodes.Select(n => KeyValuePair.Create(n.Key, (JsonNode?)new JsonObject
            {
                ["value"] = n.Value.Value,
                ["max"] = n.Value.Max,
                ["state"] = n.Value.State,
                ["node_id"] = n.Value.NodeId,
                ["prompt_id"] = promptId,
                ["display_node_id"] = n.Value.DisplayNodeId,
                ["parent_node_id"] = n.Value.ParentNodeId,
                ["real_node_id"] = n.Value.RealNodeId,
            }))),
        }),
        ComfyExecutedEvent executed => Text("executed", new JsonObject
        {
            ["node"] = executed.Node,
            ["display_node"] = executed.DisplayNode ?? executed.Node,
            ["output"] = output(executed.Output),
            ["prompt_id"] = promptId,
        }),
        ComfyExecutionSuccessEvent success => Text("execution_success", new JsonObject { ["prompt_id"] = promptId, ["timestamp"] = success.Timestamp }),
        ComfyExecutionErrorEvent error => Text("execution_error", new JsonObject
        {
            ["prompt_id"] = promptId,
            ["node_id"] = error.NodeId,
            ["node_type"] = error.NodeType,
            ["executed"] = new JsonArray([.. error.Executed.Select(n => (JsonNode)n)]),
            ["exception_message"] = error.ExceptionMessage,
            ["exception_type"] = error.ExceptionType,
            ["traceback"] = new JsonArray([.. error.Traceback.Select(n => (JsonNode)n)]),
            ["current_inputs"] = error.CurrentInputs?.DeepClone() ?? new JsonObject(),
            ["current_outputs"] = new JsonArray([.. error.CurrentOutputs.Select(n => (JsonNode)n)]),
            ["timestamp"] = error.Timestamp,
        }),
        ComfyExecutionInterruptedEvent interrupted => Interrupted(promptId, interrupted.NodeId, interrupted.NodeType, interrupted.Executed, interrupted.Timestamp),
        ComfyPreviewImageEvent preview => Preview(preview, promptId, previewMetadata),
        ComfyProgressTextEvent text => ProgressText(text),
        ComfyUnknownBinaryEvent binary => Binary(binary.BinaryType, [], binary.Payload),
        ComfyUnknownEvent unknown when unknown.PromptId is not null => Text(unknown.WireType, WithPromptId(unknown.Data, promptId)),
        _ => null,
    };

    public static ComfyFrame Interrupted(string promptId, string? nodeId, string? nodeType, IReadOnlyList<string> executed, long? timestamp) =>
        Text("execution_interrupted", new JsonObject
        {
            ["prompt_id"] = promptId,
            ["node_id"] = nodeId,
            ["node_type"] = nodeType,
            ["executed"] = new JsonArray([.. executed.Select(n => (JsonNode)n)]),
            ["timestamp"] = timestamp,
        });

    /// <summary>An <c>execution_error</c> for a run that failed in the router (or whose worker's error message was not seen).</summary>
    public static ComfyFrame Error(string promptId, string? nodeId, string? nodeType, string message, string exceptionType, long timestamp) =>
        Text("execution_error", new JsonObject
        {
            ["prompt_id"] = promptId,
            ["node_id"] = nodeId,
            ["node_type"] = nodeType,
            ["executed"] = new JsonArray(),
            ["exception_message"] = message,
            ["exception_type"] = exceptionType,
            ["traceback"] = new JsonArray(),
            ["current_inputs"] = new JsonObject(),
            ["current_outputs"] = new JsonArray(),
            ["timestamp"] = timestamp,
        });

    private static JsonObject WithPromptId(JsonNode? data, string promptId)
    {
        var copy = data?.DeepClone() as JsonObject ?? [];
        copy["prompt_id"] = promptId;
        return copy;
    }

    /// <summary>Type 4 (metadata naming the client's prompt id) for clients that announced <c>supports_preview_metadata</c>, else type 1.</summary>
    private static ComfyFrame Preview(ComfyPreviewImageEvent preview, string promptId, bool previewMetadata)
    {
        if (!previewMetadata)
        {
            return Binary(1, BigEndian(preview.MediaType == "image/png" ? 2u : 1u), preview.Image);
        }

        var meta = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["node_id"] = preview.NodeId,
            ["prompt_id"] = promptId,
            ["display_node_id"] = preview.DisplayNodeId,
            ["parent_node_id"] = preview.ParentNodeId,
            ["real_node_id"] = preview.RealNodeId,
            ["image_type"] = preview.MediaType,
        }.ToJsonString());
        return Binary(4, [.. BigEndian((uint)meta.Length), .. meta], preview.Image);
    }

    private static ComfyFrame ProgressText(ComfyProgressTextEvent text)
    {
        var node = Encoding.UTF8.GetBytes(text.NodeId);
        return Binary(3, [.. BigEndian((uint)node.Length), .. node], Encoding.UTF8.GetBytes(text.Text));
    }

    private static ComfyFrame Binary(uint type, byte[] header, ReadOnlyMemory<byte> payload)
    {
        byte[] bytes = [.. BigEndian(type), .. header, .. payload.Span];
        return new(true, bytes);
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
