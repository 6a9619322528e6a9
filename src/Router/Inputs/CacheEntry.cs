namespace ComfyOperator.Router.Inputs;

/// <summary>One line of the cache index: size, last use (from the index, never atime) and how many runs pin it.</summary>
internal sealed class CacheEntry
{
    public long Size { get; set; }

    public DateTimeOffset LastUse { get; set; }

    public int Pins { get; set; }
}
