namespace ComfyOperator.Router.Inputs;

/// <summary>Settings of the URL input cache and its downloader, bound from <c>Router:Inputs</c>.</summary>
internal sealed class InputCacheOptions
{
    public const string SectionName = "Router:Inputs";

    /// <summary>Cache directory (the shared cache volume in a cluster).</summary>
    public string CacheDirectory { get; set; } = Path.Combine(".data", "cache");

    /// <summary>Total bytes the cache may hold; least recently used unpinned files are evicted above it (seed 000: 64 GiB).</summary>
    public long MaxCacheBytes { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>Largest single download.</summary>
    public long MaxDownloadBytes { get; set; } = 16L * 1024 * 1024 * 1024;

    /// <summary>Whole-download timeout (headers and body).</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(30);

    public int MaxRedirects { get; set; } = 5;

    /// <summary>CIDR ranges allowed even though they are private/loopback/link-local (e.g. <c>10.0.0.0/8</c>).</summary>
    public List<string> AllowedNetworks { get; } = [];

    /// <summary>Content types accepted per input kind; <c>type/*</c> and <c>*/*</c> wildcards work; a missing type counts as application/octet-stream.</summary>
    public List<string> ImageContentTypes { get; } = ["image/*", "application/octet-stream", "binary/octet-stream"];

    public List<string> FileContentTypes { get; } = ["*/*"];

    public List<string> ModelContentTypes { get; } = ["application/octet-stream", "binary/octet-stream", "application/x-*", "application/zip"];

    public IReadOnlyList<string> ContentTypesFor(InputKind kind) => kind switch
    {
        InputKind.Image => ImageContentTypes,
        InputKind.Model => ModelContentTypes,
        _ => FileContentTypes,
    };
}
