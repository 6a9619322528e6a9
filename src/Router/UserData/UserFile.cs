namespace ComfyOperator.Router.UserData;

/// <summary>A user file's content and when it was last written.</summary>
internal sealed record UserFile(byte[] Content, DateTimeOffset Modified);
