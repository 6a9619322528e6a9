using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>GET /queue: the running prompt (0 or 1) and the pending ones, sorted by priority.</summary>
public sealed record ComfyQueueState(IReadOnlyList<ComfyQueueItem> Running, IReadOnlyList<ComfyQueueItem> Pending)
{
    /// <summary>True when the prompt is running or pending.</summary>
    public bool Contains(string promptId) =>
        Running.Any(i => i.PromptId == promptId) || Pending.Any(i => i.PromptId == promptId);

    internal static ComfyQueueState Parse(JsonObject? obj)
    {
        var running = ParseList(JsonRead.Array(obj, "queue_running"));
        var pending = ParseList(JsonRead.Array(obj, "queue_pending"));

        // The server sends a copy of its heap, not a sorted list (docs/comfyui-protocol.md §3.2): sort by number, then id.
        pending.Sort(static (a, b) =>
        {
            var c = a.Number.CompareTo(b.Number);
            return c != 0 ? c : string.CompareOrdinal(a.PromptId, b.PromptId);
        });
        return new ComfyQueueState(running, pending);
    }

    private static List<ComfyQueueItem> ParseList(JsonArray? array)
    {
        var list = new List<ComfyQueueItem>();
        if (array is null)
        {
            return list;
        }

        foreach (var node in array)
        {
            if (ComfyQueueItem.Parse(node) is { } item)
            {
                list.Add(item);
            }
        }

        return list;
    }
}
