namespace ComfyOperator.Comfy.Client;

/// <summary>One entry of <c>system_stats.devices</c>. Index is null for the CPU device.</summary>
public sealed record ComfyDevice(
    string Name,
    string Type,
    int? Index,
    long? VramTotal,
    long? VramFree,
    long? TorchVramTotal,
    long? TorchVramFree);
