using System.Text.Json.Nodes;

namespace ComfyOperator.Comfy.Client;

/// <summary>The body of POST /prompt (docs/comfyui-protocol.md §2.1).</summary>
public sealed record ComfyPromptRequest
{
    /// <summary>The API-format graph. It is written as is, never copied.</summary>
    public required JsonObject Prompt { get; init; }

    /// <summary>The WebSocket client id that gets the execution events. Always set it (docs/comfyui-protocol.md §9.2).</summary>
    public string? ClientId { get; init; }

    /// <summary>A canonical lowercase UUID (newer servers reject anything else); null lets the server mint one.</summary>
    public string? PromptId { get; init; }

    /// <summary>Passed to the executor and stored in history (e.g. <c>extra_pnginfo</c>).</summary>
    public JsonObject? ExtraData { get; init; }

    /// <summary>Jump ahead of normally queued prompts (ignored when <see cref="Number"/> is set).</summary>
    public bool Front { get; init; }

    /// <summary>Explicit priority: lower runs first.</summary>
    public double? Number { get; init; }

    /// <summary>Only run these output nodes (since 0.3.47).</summary>
    public IReadOnlyList<string>? PartialExecutionTargets { get; init; }
}
