using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>
/// Finds files in a node's UI output. Keys differ by node (images, gifs, audio, video, custom...),
/// so every list of <c>{filename, subfolder, type}</c> objects counts (docs/comfyui-protocol.md §3.6).
/// </summary>
internal static class ComfyOutputFiles
{
    public static IReadOnlyList<ComfyFileRef> Extract(JsonObject? output)
    {
        if (output is null)
        {
            return [];
        }

        List<ComfyFileRef>? files = null;
        foreach (var (_, value) in output)
        {
            if (value is not JsonArray array)
            {
                continue;
            }

            foreach (var item in array)
            {
                if (item is JsonObject obj && JsonRead.String(obj, "filename") is { } name)
                {
                    files ??= [];
                    files.Add(new ComfyFileRef(name, JsonRead.String(obj, "subfolder") ?? "", JsonRead.String(obj, "type") ?? "output"));
                }
            }
        }

        return files ?? (IReadOnlyList<ComfyFileRef>)[];
    }
}
