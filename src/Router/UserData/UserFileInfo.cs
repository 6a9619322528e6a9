namespace ComfyOperator.Router.UserData;

/// <summary>A user file as listed: its path, size in bytes and last write.</summary>
internal sealed record UserFileInfo(string Path, long Size, DateTimeOffset Modified);
