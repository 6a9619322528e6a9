namespace ComfyOperator.Comfy.Events;

/// <summary><c>progress</c>: one sampler step (value 1..max) of <see cref="Node"/>.</summary>
public sealed record ComfyProgressEvent(double Value, double Max, string? Node) : ComfyEvent
{
    public override string Type => "progress";
}
