using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Operator.Manifests;

/// <summary>A short, stable hash of the parts of a manifest that, when changed, require a new pod.</summary>
internal static class TemplateHash
{
    public static string Compute(params string[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)));

        // 10 hex characters: 40 bits, plenty to tell one node's templates apart; the pod name stays short.
        return Convert.ToHexStringLower(hash)[..10];
    }
}
