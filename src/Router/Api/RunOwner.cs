using System.Net.Http.Headers;
using System.Security.Claims;
using ComfyOperator.Router.Security;
using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Router.Api;

/// <summary>
/// Who a run belongs to, for fair share and per-key limits: <c>key-</c> + the first 8 hex digits of
/// the API key's SHA-256 (never the key itself), or <c>user-NAME</c> for Basic auth.
/// </summary>
internal static class RunOwner
{
    public static string? Of(HttpContext context)
    {
        // Authenticated from the Authorization header when there is one: its owner claim is that credential's owner.
        if (context.User.Identity?.IsAuthenticated == true && context.User.FindFirstValue(RouterAuthentication.OwnerClaim) is { } claimed)
        {
            return claimed;
        }

        if (AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization, out var header)
            && string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase) && header.Parameter is { Length: > 0 } key)
        {
            return KeyId(key);
        }

        if (context.User.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        // An API key given as the `token` query parameter (ComfyUI's routes) is the same owner as the header.
        if (context.User.FindFirstValue(ClaimTypes.AuthenticationMethod) == "ApiKey" && context.Request.Query["token"].ToString() is { Length: > 0 } token)
        {
            return KeyId(token);
        }

        return context.User.FindFirstValue(ClaimTypes.Name) is { } name ? "user-" + name : null;
    }

    /// <summary>The id of an API key as used in <c>Router:KeyWeights</c>: <c>printf %s KEY | sha256sum | cut -c1-8</c>.</summary>
    public static string KeyId(string key) => KeyId(SecretComparer.Hash(key));

    /// <summary>The id of an API key from its SHA-256 (<see cref="SecretComparer.Hash"/>).</summary>
    public static string KeyId(byte[] keyHash) => "key-" + Convert.ToHexStringLower(keyHash.AsSpan(0, 4));
}
