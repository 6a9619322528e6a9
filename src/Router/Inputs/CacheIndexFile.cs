namespace ComfyOperator.Router.Inputs;

/// <summary>The persisted form of the cache index (the record file): entries by file name and which URL gave which file.</summary>
internal sealed class CacheIndexFile
{
    public int Version { get; set; } = 1;

    public Dictionary<string, CacheEntry> Entries { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Urls { get; set; } = new(StringComparer.Ordinal);
}
