namespace ComfyOperator.Comfy.Events;

/// <summary>
/// <c>executing</c>: a node started. With <see cref="Node"/> null and a prompt id it is the last
/// message of that prompt, sent after its history entry is stored (docs/comfyui-protocol.md §5.6).
/// </summary>
public sealed record ComfyExecutingEvent(string? Node, string? DisplayNode) : ComfyEvent
{
    public override string Type => "executing";

    /// <summary>True for the end-of-prompt marker (<c>node: null</c> with a prompt id).</summary>
    public bool IsPromptDone => Node is null && PromptId is not null;
}
