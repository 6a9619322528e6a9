namespace ComfyOperator.Comfy.Events;

/// <summary>
/// One message from a ComfyUI WebSocket (docs/comfyui-protocol.md §5.3, §5.5). <see cref="PromptId"/> is set
/// on every per-prompt message; the session routes by it.
/// </summary>
public abstract record ComfyEvent
{
    /// <summary>The wire type (<c>executing</c>, <c>progress</c>...; binary frames use <c>binary:N</c> names).</summary>
    public abstract string Type { get; }

    /// <summary>The prompt this message belongs to, when it says (or when the session could attribute it).</summary>
    public string? PromptId { get; init; }
}
