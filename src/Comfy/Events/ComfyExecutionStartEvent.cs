namespace ComfyOperator.Comfy.Events;

/// <summary><c>execution_start</c>: the worker dequeued the prompt.</summary>
public sealed record ComfyExecutionStartEvent(long? Timestamp) : ComfyEvent
{
    public override string Type => "execution_start";
}
