namespace ComfyOperator.Router.Inputs;

/// <summary>What <c>GET /v1/cache</c> shows.</summary>
internal sealed record CacheUsage(long UsedBytes, long MaxBytes, int Files, int PinnedFiles, IReadOnlyList<CacheUsageEntry> Entries);
