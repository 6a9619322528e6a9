using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Client;

namespace ComfyOperator.Comfy.Events;

/// <summary><c>executed</c>: a node with UI output finished (also sent for cached output nodes).</summary>
/// <param name="Node">The node id.</param>
/// <param name="DisplayNode">The display node id.</param>
/// <param name="Output">The node's UI dict, e.g. <c>{"images": [...]}</c>.</param>
/// <param name="Files">Every <c>{filename, subfolder, type}</c> found in <paramref name="Output"/>.</param>
public sealed record ComfyExecutedEvent(string? Node, string? DisplayNode, JsonObject? Output, IReadOnlyList<ComfyFileRef> Files) : ComfyEvent
{
    public override string Type => "executed";
}
