using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Router.Webhooks;

/// <summary>
/// Standard Webhooks signing: <c>webhook-signature: v1,&lt;base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))&gt;</c>
/// where the key is the base64 part of a <c>whsec_</c> secret.
/// </summary>
internal static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    public static byte[] ParseSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var text = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        try
        {
            var key = Convert.FromBase64String(text);
            if (key.Length < 16)
            {
                throw new FormatException("The webhook secret must hold at least 16 bytes.");
            }

            return key;
        }
        catch (FormatException exception)
        {
            throw new FormatException("The webhook secret must be 'whsec_' followed by base64.", exception);
        }
    }

    public static string Sign(byte[] key, string id, long timestamp, string body)
    {
        var content = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }
}
