using System.Text.Json.Nodes;

namespace ComfyOperator.Comfy.Client;

/// <summary>The UI output of one node in a history entry, with every file it names.</summary>
public sealed record ComfyNodeOutput(string NodeId, IReadOnlyList<ComfyFileRef> Files, JsonObject Raw);
