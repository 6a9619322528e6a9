namespace ComfyOperator.Router.Inputs;

internal sealed record CacheUsageEntry(string FileName, long Size, DateTimeOffset LastUse, int Pins);
