using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>validate_prompt's result: ok, the top-level error, the outputs to run, per-node errors.</summary>
internal sealed record ValidationResult(bool Ok, JsonObject? Error, IReadOnlyList<string> GoodOutputs, JsonObject NodeErrors);
