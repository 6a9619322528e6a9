using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Json;

namespace ComfyOperator.Comfy.Client;

/// <summary>GET /system_stats (docs/comfyui-protocol.md §4.4). Sizes in bytes.</summary>
public sealed record ComfySystemStats(
    string? Os,
    long? RamTotal,
    long? RamFree,
    string? ComfyUiVersion,
    string? PythonVersion,
    string? PytorchVersion,
    IReadOnlyList<string> Argv,
    IReadOnlyList<ComfyDevice> Devices,
    JsonObject Raw)
{
    internal static ComfySystemStats Parse(JsonObject? obj)
    {
        obj ??= [];
        var system = JsonRead.Object(obj, "system");
        var devices = new List<ComfyDevice>();
        if (JsonRead.Array(obj, "devices") is { } array)
        {
            foreach (var d in array)
            {
                if (d is JsonObject device)
                {
                    devices.Add(new ComfyDevice(
                        JsonRead.String(device, "name") ?? "",
                        JsonRead.String(device, "type") ?? "",
                        (int?)JsonRead.Long(device, "index"),
                        JsonRead.Long(device, "vram_total"),
                        JsonRead.Long(device, "vram_free"),
                        JsonRead.Long(device, "torch_vram_total"),
                        JsonRead.Long(device, "torch_vram_free")));
                }
            }
        }

        return new ComfySystemStats(
            JsonRead.String(system, "os"),
            JsonRead.Long(system, "ram_total"),
            JsonRead.Long(system, "ram_free"),
            JsonRead.String(system, "comfyui_version"),
            JsonRead.String(system, "python_version"),
            JsonRead.String(system, "pytorch_version"),
            JsonRead.StringList(system?["argv"]),
            devices,
            obj);
    }
}
