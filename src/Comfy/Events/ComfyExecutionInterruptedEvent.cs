namespace ComfyOperator.Comfy.Events;

/// <summary><c>execution_interrupted</c>: the prompt was interrupted while <see cref="NodeId"/> ran.</summary>
public sealed record ComfyExecutionInterruptedEvent(string? NodeId, string? NodeType, IReadOnlyList<string> Executed, long? Timestamp) : ComfyEvent
{
    public override string Type => "execution_interrupted";
}
