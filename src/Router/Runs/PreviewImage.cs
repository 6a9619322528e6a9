namespace ComfyOperator.Router.Runs;

/// <summary>The latest preview frame of a run, kept in memory only.</summary>
internal sealed record PreviewImage(ReadOnlyMemory<byte> Bytes, string ContentType, DateTimeOffset At);
