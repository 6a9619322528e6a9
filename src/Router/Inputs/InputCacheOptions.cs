namespace ComfyOperator.Router.Inputs;

/// <summary>Settings of the URL input cache and its downloader, bound from <c>Router:Inputs</c>.</summary>
internal sealed class InputCacheOptions
{
    public const string SectionName = "Router:Inputs";

    /// <summary>Cache directory (the shared cache volume in a cluster); default <c>&lt;Router:DataDirectory&gt;/cache</c>.</summary>
    public string CacheDirectory { get; set; } = "";

    /// <summary>Total bytes the cache may hold; least recently used unpinned files are evicted above it (seed 000: 64 GiB).</summary>
    public long MaxCacheBytes { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>
    /// How long last-use times and pin counts may wait before the index file is rewritten (new and
    /// evicted files are written at once; pins are rebuilt from the run store at start). Zero = every change.
    /// </summary>
    public TimeSpan IndexFlushInterval { get; set; } = TimeSpan.FromSeconds(1);

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

    /// <summary>
    /// How a cached file reaches the worker: <c>upload</c> (default; POST /upload/image, input files
    /// only) or <c>link</c> (workers share the cache volume: a symlink in their input or models folder;
    /// model URLs need this).
    /// </summary>
    public string Visibility { get; set; } = "upload";

    /// <summary>With <c>link</c>: ComfyUI's input folder as the router sees it.</summary>
    public string? WorkerInputDirectory { get; set; }

    /// <summary>With <c>link</c>: ComfyUI's models folder (holding checkpoints/, loras/...) as the router sees it.</summary>
    public string? WorkerModelsDirectory { get; set; }

    /// <summary>With <c>link</c>: the cache directory as ComfyUI sees it (the symlinks' target); default <see cref="CacheDirectory"/>.</summary>
    public string? WorkerCacheDirectory { get; set; }

    public bool LinksIntoWorkers => string.Equals(Visibility, "link", StringComparison.OrdinalIgnoreCase);

    public IReadOnlyList<string> ContentTypesFor(InputKind kind) => kind switch
    {
        InputKind.Image => ImageContentTypes,
        InputKind.Model => ModelContentTypes,
        _ => FileContentTypes,
    };
}
