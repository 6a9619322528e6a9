namespace ComfyOperator.Router.WorkerDisks;

/// <summary>
/// Settings of worker disk cleanup, bound from <c>Router:DiskCleanup</c>: after a run, the router
/// deletes the outputs it has stored and the input files it uploaded from the worker, through the
/// cleanup route of our ComfyUI image. Off without a <see cref="Token"/>.
/// </summary>
internal sealed class WorkerDiskOptions
{
    public const string SectionName = "Router:DiskCleanup";

    /// <summary>Shortest <see cref="Token"/> accepted.</summary>
    public const int MinTokenLength = 16;

    /// <summary>
    /// The shared secret. Managed workers (ComfyNodes the operator runs, which gets the same secret) are
    /// cleaned with a token derived from it per node; opted-in external workers are sent it as it is.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>How long a worker keeps a file after the router is done with it (zero = delete at once).</summary>
    public TimeSpan KeepFor { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Workers from <c>Router:Nodes</c> or the servers file that run the cleanup route (same syntax as
    /// <c>Router:Nodes</c>); API-added workers and external ComfyNodes opt in with a label instead.
    /// </summary>
    public List<string> Workers { get; } = [];

    /// <summary>Timeout of one cleanup request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool Enabled => !string.IsNullOrEmpty(Token);
}
