using System.Text.Json.Nodes;

namespace ComfyOperator.Comfy.Events;

/// <summary>A text message of a type we do not model (logs, notification, custom nodes...). Not an error.</summary>
public sealed record ComfyUnknownEvent(string WireType, JsonNode? Data) : ComfyEvent
{
    public override string Type => WireType;
}
