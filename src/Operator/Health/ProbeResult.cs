using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Health;

/// <summary>One probe of a ComfyUI endpoint: what <c>/system_stats</c> and <c>/prompt</c> answered, or why not.</summary>
internal sealed record ProbeResult(bool Succeeded, string? ComfyVersion, IReadOnlyList<DeviceStatus> Devices, int QueueRemaining, string? Error)
{
    public static ProbeResult Failed(string error) => new(false, null, [], 0, error);
}
