namespace ComfyOperator.Comfy.Events;

/// <summary><c>progress_state</c> (since 0.3.44): progress of every node touched so far.</summary>
public sealed record ComfyProgressStateEvent(IReadOnlyDictionary<string, ComfyNodeProgress> Nodes) : ComfyEvent
{
    public override string Type => "progress_state";
}
