using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Router.Security;

/// <summary>Compares secrets in constant time: both sides are hashed first, so neither the content nor the length leaks through timing.</summary>
internal static class SecretComparer
{
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool Matches(byte[] expectedHash, string presented) => Matches(expectedHash, Hash(presented));

    /// <summary>For a secret compared with several: hashed once (<see cref="Hash"/>), then compared with each.</summary>
    public static bool Matches(byte[] expectedHash, byte[] presentedHash) =>
        CryptographicOperations.FixedTimeEquals(expectedHash, presentedHash);
}
