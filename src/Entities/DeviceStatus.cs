using System.ComponentModel;

namespace ComfyOperator.Entities;

/// <summary>One device from ComfyUI's <c>/system_stats</c>.</summary>
[Description("A compute device ComfyUI reports.")]
public sealed class DeviceStatus
{
    [Description("Device name as ComfyUI reports it.")]
    public string Name { get; set; } = string.Empty;

    [Description("cuda, cpu, mps...")]
    public string? Type { get; set; }

    [Description("Device index, when there is one.")]
    public int? Index { get; set; }

    [Description("Total VRAM in bytes.")]
    public long VramTotal { get; set; }

    [Description("Free VRAM in bytes when the status was last written (not kept current: it changes with every prompt).")]
    public long VramFree { get; set; }
}
