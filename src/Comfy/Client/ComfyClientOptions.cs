namespace ComfyOperator.Comfy.Client;

/// <summary>Knobs for one <see cref="ComfyClient"/>.</summary>
public sealed record ComfyClientOptions
{
    /// <summary>Timeout of one ordinary call (queue, history, prompt, interrupt...).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of calls that move a lot of data: object_info, uploads, and the headers of /view.</summary>
    public TimeSpan LongRequestTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Prefix put before every route, "" (default) or "/api". ComfyUI serves every route under both
    /// (docs/comfyui-protocol.md §1); a reverse proxy in front of a worker may only pass one of them.
    /// </summary>
    public string PathPrefix { get; init; } = "";
}
