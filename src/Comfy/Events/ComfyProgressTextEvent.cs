namespace ComfyOperator.Comfy.Events;

/// <summary>Binary type 3: progress text from a node.</summary>
public sealed record ComfyProgressTextEvent(string NodeId, string Text) : ComfyEvent
{
    public override string Type => "binary:text";
}
