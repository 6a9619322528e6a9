namespace ComfyOperator.Router.Nodes;

/// <summary>One device from the worker's <c>/system_stats</c>.</summary>
internal sealed record GpuDevice(string Name, string Type, long VramTotal, long VramFree);
