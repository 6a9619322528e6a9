using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>What a node returned: its outputs (by index) and its UI dict (e.g. <c>{"images": [...]}</c>) if any.</summary>
internal sealed record NodeResult(object?[] Outputs, JsonObject? Ui);
