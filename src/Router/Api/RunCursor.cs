using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace ComfyOperator.Router.Api;

/// <summary>The opaque paging cursor: base64url of a versioned sequence bound.</summary>
internal static class RunCursor
{
    private const string Version = "r1:";

    public static string Encode(long before) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Version + before.ToString(CultureInfo.InvariantCulture)));

    public static bool TryDecode(string cursor, out long before)
    {
        before = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return text.StartsWith(Version, StringComparison.Ordinal)
                && long.TryParse(text.AsSpan(Version.Length), NumberStyles.None, CultureInfo.InvariantCulture, out before)
                && before > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
