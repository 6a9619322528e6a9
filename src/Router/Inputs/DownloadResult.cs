namespace ComfyOperator.Router.Inputs;

/// <summary>What a finished download told us: bytes written, the media type and the final URL after redirects.</summary>
internal sealed record DownloadResult(long Bytes, string? ContentType, Uri FinalUrl);
