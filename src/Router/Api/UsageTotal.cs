namespace ComfyOperator.Router.Api;

/// <summary>Usage summed over one key (or user) or one workflow; <paramref name="Name"/> null = no key (auth off) or a raw graph.</summary>
internal sealed record UsageTotal(string? Name, long Runs, long Failures, double GpuSeconds);
