namespace ComfyOperator.Comfy.Events;

/// <summary><c>status</c>: queue size broadcast; <see cref="Sid"/> only on the first frame of a socket.</summary>
public sealed record ComfyStatusEvent(int? QueueRemaining, string? Sid) : ComfyEvent
{
    public override string Type => "status";
}
