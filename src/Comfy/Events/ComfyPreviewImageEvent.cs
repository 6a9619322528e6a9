namespace ComfyOperator.Comfy.Events;

/// <summary>
/// A binary preview: type 1 (<c>[format][image]</c>, format 1 JPEG, 2 PNG) or type 4 (with a JSON
/// metadata header naming node and prompt) of docs/comfyui-protocol.md §5.5.
/// </summary>
public sealed record ComfyPreviewImageEvent(
    int BinaryType,
    string MediaType,
    ReadOnlyMemory<byte> Image,
    string? NodeId,
    string? DisplayNodeId,
    string? ParentNodeId,
    string? RealNodeId) : ComfyEvent
{
    public override string Type => BinaryType == 4 ? "binary:preview_image_with_metadata" : "binary:preview_image";
}
