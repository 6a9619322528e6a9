namespace ComfyOperator.Comfy.Events;

/// <summary>A binary frame of a type we do not model, kept whole.</summary>
public sealed record ComfyUnknownBinaryEvent(uint BinaryType, ReadOnlyMemory<byte> Payload) : ComfyEvent
{
    public override string Type => $"binary:{BinaryType}";
}
