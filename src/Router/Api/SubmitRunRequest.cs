using System.Text.Json;

namespace ComfyOperator.Router.Api;

/// <summary>Body of <c>POST /v1/runs</c>: an API-format ComfyUI graph and optional scheduling hints.</summary>
internal sealed record SubmitRunRequest(JsonElement Workflow, int? Priority, string? IdempotencyKey, JsonElement? Metadata);
