using System.Security.Cryptography;
using System.Text;

namespace ComfyOperator.Entities;

/// <summary>
/// The contract between the router and the cleanup route our ComfyUI image ships
/// (<c>deploy/comfyui/custom_nodes/comfyoperator_cleanup</c>): where it is, how a request is
/// authenticated, and how the operator and the router agree on a managed worker's token.
/// </summary>
public static class WorkerCleanup
{
    /// <summary><c>POST</c> here with <c>{"files":[{"type":"input|output|temp","subfolder":"","filename":"x.png"}]}</c>.</summary>
    public const string Route = "/comfyoperator/cleanup";

    /// <summary>The header that carries the worker's token.</summary>
    public const string TokenHeader = "X-ComfyOperator-Token";

    /// <summary>The environment variable the route reads its token from; without it the route refuses every request.</summary>
    public const string TokenVariable = "COMFYOPERATOR_CLEANUP_TOKEN";

    /// <summary>A label (<c>"true"</c>) on an external ComfyNode or an API-added worker that opts it in.</summary>
    public const string OptInLabel = EntityApi.Group + "/disk-cleanup";

    /// <summary>
    /// A managed node's own token: HMAC-SHA256 of its namespace and name under the shared secret, so the
    /// token in one pod's spec opens no other worker's files. The operator puts it into the pod; the
    /// router computes it again from the ComfyNode it sees.
    /// </summary>
    public static string TokenFor(string secret, string @namespace, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"ComfyNode/{@namespace}/{name}"));
        return Convert.ToHexStringLower(mac);
    }
}
