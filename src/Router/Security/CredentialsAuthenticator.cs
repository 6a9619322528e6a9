using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Security;

/// <summary>
/// Checks one credential, written as an <c>Authorization</c> header value (<c>Bearer &lt;api key&gt;</c> or
/// <c>Basic ...</c>): the header, the <c>token</c> query parameter and the web UI's session cookie all
/// end here, so a key revoked or a password changed stops working everywhere at once.
/// A credential that succeeded is remembered (<see cref="VerifiedCredentials"/>) until a key is revoked or the
/// keys file changes; a key created through <c>/v1/keys</c> is not remembered when several replicas serve
/// (<c>Router:Store:ReplicaMode</c> active), because another replica may revoke it: it is looked up every time.
/// </summary>
internal sealed class CredentialsAuthenticator(CredentialStore credentials, IApiKeyStore keys, VerifiedCredentials verified, IOptions<StoreOptions> store)
{
    private readonly bool _rememberStoredKeys = !store.Value.IsActiveActive;

    /// <summary>A success, a failure with its reason, or no result for a scheme the router does not know.</summary>
    public async Task<AuthenticateResult> AuthenticateAsync(string authorization, string scheme, CancellationToken cancellationToken)
    {
        var hash = SecretComparer.Hash(authorization);
        var generation = verified.Generation;
        var keysFileGeneration = credentials.KeysFileGeneration;
        if (verified.Find(hash, keysFileGeneration) is { } known && known.Identity?.AuthenticationType == scheme)
        {
            return AuthenticateResult.Success(new AuthenticationTicket(known, scheme));
        }

        var (result, remember) = await CheckAsync(authorization, scheme, cancellationToken);
        if (remember && result.Succeeded)
        {
            verified.Remember(hash, generation, keysFileGeneration, result.Principal!);
        }

        return result;
    }

    /// <summary>Forgets every credential verified so far (a key was revoked): each is checked again on its next request.</summary>
    public void Forget() => verified.Invalidate();

    private async Task<(AuthenticateResult Result, bool Remember)> CheckAsync(string authorization, string scheme, CancellationToken cancellationToken)
    {
        if (!AuthenticationHeaderValue.TryParse(authorization, out var value) || value.Parameter is null)
        {
            return (AuthenticateResult.NoResult(), false);
        }

        if (string.Equals(value.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return await AuthenticateKeyAsync(value.Parameter, scheme, cancellationToken);
        }

        if (!string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            return (AuthenticateResult.NoResult(), false);
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
        }
        catch (FormatException)
        {
            return (AuthenticateResult.Fail("Malformed Basic credentials."), false);
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return (AuthenticateResult.Fail("Malformed Basic credentials."), false);
        }

        var user = decoded[..colon];
        return credentials.IsValidBasic(user, decoded[(colon + 1)..])
            ? (Success(user, "user-" + user, "Basic", admin: true, scheme), true)
            : (AuthenticateResult.Fail("Invalid user name or password."), false);
    }

    public static string Bearer(string key) => "Bearer " + key;

    public static string Basic(string user, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    private async Task<(AuthenticateResult Result, bool Remember)> AuthenticateKeyAsync(string key, string scheme, CancellationToken cancellationToken)
    {
        // One hash of the key: it is compared with the configured keys, looked up among the stored ones and names the owner.
        var hash = SecretComparer.Hash(key);
        var owner = RunOwner.KeyId(hash);
        if (credentials.IsValidApiKey(hash))
        {
            return (Success(owner, owner, "ApiKey", admin: true, scheme), true);
        }

        try
        {
            var stored = await keys.FindByHashAsync(Convert.ToHexStringLower(hash), cancellationToken);
            return stored is { RevokedAt: null }
                ? (Success(stored.Id, owner, "ApiKey", stored.Admin, scheme), _rememberStoredKeys)
                : (AuthenticateResult.Fail(stored is null ? "Invalid API key." : "The API key has been revoked."), false);
        }
        catch (StorageException)
        {
            return (AuthenticateResult.Fail("API keys cannot be checked now: the router database is unavailable."), false);
        }
    }

    private static AuthenticateResult Success(string name, string owner, string method, bool admin, string scheme)
    {
        List<Claim> claims =
        [
            new Claim(ClaimTypes.Name, name),
            new Claim(ClaimTypes.AuthenticationMethod, method),
            new Claim(RouterAuthentication.OwnerClaim, owner),
        ];
        if (admin)
        {
            claims.Add(new Claim(RouterAuthentication.AdminClaim, "true"));
        }

        var identity = new ClaimsIdentity(claims, scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), scheme));
    }
}
