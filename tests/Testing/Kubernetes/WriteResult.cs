using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Kubernetes;

/// <summary>Outcome of a write: HTTP code, the body to return, and Warning header texts.</summary>
internal sealed record WriteResult(int Code, JsonObject Body, IReadOnlyList<string> Warnings);
