using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Router.Nodes;

/// <summary>
/// A worker's id in <c>/v1/nodes/{id}</c>: the first 12 hex digits of its base URL's SHA-256, so the
/// same address has the same id in every source, on every replica and after a restart.
/// </summary>
internal static class NodeIds
{
    public static string Of(Uri baseAddress) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(baseAddress.ToString())))[..12];
}
