using System.Text.Json.Nodes;

namespace ComfyOperator.Router.Workflows;

/// <summary>One graph a workflow can run, with where each public input goes in it (an input may feed several nodes).</summary>
internal sealed record WorkflowGraphVariant(JsonObject Graph, IReadOnlyDictionary<string, IReadOnlyList<InputTarget>> Targets);
