using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Health;

/// <summary>Short device names for the GPU printer column.</summary>
internal static class DeviceNames
{
    /// <summary><c>"cuda:0 NVIDIA H100 80GB HBM3 : cudaMallocAsync"</c> → <c>"NVIDIA H100 80GB HBM3"</c>; <c>" x2"</c> appended for two devices.</summary>
    public static string? Summary(IReadOnlyList<DeviceStatus> devices)
    {
        if (devices.Count == 0)
        {
            return null;
        }

        var name = devices[0].Name;
        var colon = name.IndexOf(" : ", StringComparison.Ordinal);
        if (colon >= 0)
        {
            name = name[..colon];
        }

        var space = name.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && name[..space].Contains(':', StringComparison.Ordinal))
        {
            name = name[(space + 1)..];
        }

        name = name.Trim();
        return devices.Count > 1 ? $"{name} x{devices.Count}" : name;
    }
}
