namespace ComfyOperator.Router.UserData;

/// <summary>
/// The paths a user file may have: relative, <c>/</c>-separated segments of letters, digits and the
/// punctuation file names use, no empty, <c>.</c> or <c>..</c> segment, no backslash or control
/// character. They are database keys, so nothing can reach outside the caller's files whatever the
/// request says; the rules keep the names ComfyUI's front end shows sensible.
/// </summary>
internal static class UserFilePath
{
    public const int MaxLength = 512;

    private const int MaxSegment = 255;

    /// <summary>The path as stored, or null when it is not an acceptable path.</summary>
    public static string? Normalize(string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > MaxLength)
        {
            return null;
        }

        var segments = path.Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length is 0 or > MaxSegment || segment is "." or ".." || segment.Any(c => char.IsControl(c) || c is '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|'))
            {
                return null;
            }
        }

        return path;
    }

    /// <summary>A folder as a listing prefix (<c>"workflows"</c> → <c>"workflows/"</c>), or null when it is not an acceptable path.</summary>
    public static string? Folder(string? directory) =>
        Normalize(directory?.Trim('/')) is { } folder ? folder + "/" : null;
}
