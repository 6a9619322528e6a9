using System.Text.Json.Nodes;

namespace ComfyOperator.Router.Workflows;

/// <summary>A workflow's graph with a run's inputs written in, ready to store as the run's workflow.</summary>
internal sealed record BoundRun(JsonObject Graph, IReadOnlyDictionary<string, JsonNode?> Values);
