namespace ComfyOperator.Router.Outputs;

/// <summary>
/// Output and run names are restricted to a safe alphabet before they touch a path, which is what
/// makes path traversal impossible (no separators, no "..", no leading dot).
/// </summary>
internal static class OutputNames
{
    public const int MaxLength = 200;

    public static bool IsSafe(string? name) =>
        !string.IsNullOrEmpty(name)
        && name.Length <= MaxLength
        && name[0] != '.'
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
        && !name.Contains("..", StringComparison.Ordinal);

    /// <summary>A name, or <c>&lt;output&gt;/&lt;file&gt;</c> of two safe names.</summary>
    public static bool IsSafePath(string? path) =>
        path is not null && path.Split('/') is { Length: 1 or 2 } parts && parts.All(IsSafe);

    /// <summary>Turns a ComfyUI file name into a safe output name (other characters become '_').</summary>
    public static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var text = new string(chars).TrimStart('.');
        while (text.Contains("..", StringComparison.Ordinal))
        {
            text = text.Replace("..", ".", StringComparison.Ordinal);
        }

        if (text.Length == 0)
        {
            text = "output";
        }

        return text.Length > MaxLength ? text[^MaxLength..].TrimStart('.') : text;
    }

    public static string ContentType(string name) => Path.GetExtension(name).ToUpperInvariant() switch
    {
        ".PNG" => "image/png",
        ".JPG" or ".JPEG" => "image/jpeg",
        ".WEBP" => "image/webp",
        ".GIF" => "image/gif",
        ".MP4" => "video/mp4",
        ".WEBM" => "video/webm",
        ".WAV" => "audio/wav",
        ".MP3" => "audio/mpeg",
        ".FLAC" => "audio/flac",
        ".JSON" => "application/json",
        ".TXT" => "text/plain",
        _ => "application/octet-stream",
    };
}
