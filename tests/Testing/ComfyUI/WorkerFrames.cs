using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>One WebSocket frame as a ComfyUI client received it.</summary>
public sealed record WorkerFrame(bool Binary, byte[] Bytes);

/// <summary>
/// Every frame a ComfyUI client receives straight from a worker for prompts it queues one after another, as a
/// script does: <c>feature_flags</c> (with or without <c>supports_preview_metadata</c>), <c>POST /prompt</c> each
/// graph, then read <c>/ws</c> until the last prompt's <c>executing</c> with <c>node: null</c>.
/// </summary>
public static class WorkerFrames
{
    public static async Task<IReadOnlyList<WorkerFrame>> CaptureAsync(
        Uri worker, string clientId, bool previewMetadata, IReadOnlyList<JsonObject> prompts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(prompts);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{worker.Authority}/ws?clientId={Uri.EscapeDataString(clientId)}"), cancellationToken).ConfigureAwait(false);
        var flags = new JsonObject { ["type"] = "feature_flags", ["data"] = new JsonObject { ["supports_preview_metadata"] = previewMetadata } };
        await socket.SendAsync(Encoding.UTF8.GetBytes(flags.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);

        using var http = new HttpClient { BaseAddress = worker };
        string? last = null;
        foreach (var prompt in prompts)
        {
            using var posted = await http.PostAsJsonAsync("/prompt", new JsonObject { ["prompt"] = prompt.DeepClone(), ["client_id"] = clientId }, cancellationToken).ConfigureAwait(false);
            posted.EnsureSuccessStatusCode();
            last = (await posted.Content.ReadFromJsonAsync<JsonObject>(cancellationToken).ConfigureAwait(false))!["prompt_id"]!.GetValue<string>();
        }

        var frames = new List<WorkerFrame>();
        var buffer = new byte[1 << 20];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            var frame = new WorkerFrame(result.MessageType == WebSocketMessageType.Binary, buffer.AsSpan(0, length).ToArray());
            frames.Add(frame);
            if (!frame.Binary && JsonNode.Parse(frame.Bytes) is JsonObject { } message && (string?)message["type"] == "executing"
                && message["data"] is JsonObject data && data["node"] is null && (string?)data["prompt_id"] == last)
            {
                return frames;
            }
        }
    }
}
