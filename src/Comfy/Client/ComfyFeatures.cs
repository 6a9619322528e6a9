using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>Server feature flags: GET /features, or the ws <c>feature_flags</c> reply (docs/comfyui-protocol.md §4.6).</summary>
public sealed record ComfyFeatures(bool SupportsPreviewMetadata, long? MaxUploadSize, JsonObject Raw)
{
    internal static ComfyFeatures Parse(JsonObject? obj)
    {
        obj ??= [];
        return new ComfyFeatures(
            JsonRead.Bool(obj, "supports_preview_metadata") ?? false,
            JsonRead.Long(obj, "max_upload_size"),
            obj);
    }
}
