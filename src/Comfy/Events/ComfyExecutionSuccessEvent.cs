namespace ComfyOperator.Comfy.Events;

/// <summary><c>execution_success</c> (since 2024-07): the prompt finished without error.</summary>
public sealed record ComfyExecutionSuccessEvent(long? Timestamp) : ComfyEvent
{
    public override string Type => "execution_success";
}
