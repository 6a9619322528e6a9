using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Security;

/// <summary>
/// Accepts <c>Authorization: Bearer &lt;api key&gt;</c> (a key from the configuration or keys file, or
/// one created through <c>/v1/keys</c> and not revoked) and <c>Authorization: Basic</c>; a challenge
/// answers 401 with <c>WWW-Authenticate</c> for both schemes and a ProblemDetails body. Administrators
/// get <see cref="RouterAuthentication.AdminClaim"/>.
/// </summary>
internal sealed class CredentialsAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CredentialStore credentials,
    IApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) && QueryToken(Context) is { } token)
        {
            return await AuthenticateKeyAsync(token);
        }

        if (string.IsNullOrEmpty(header) || !AuthenticationHeaderValue.TryParse(header, out var value) || value.Parameter is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (string.Equals(value.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return await AuthenticateKeyAsync(value.Parameter);
        }

        if (string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
            }
            catch (FormatException)
            {
                return AuthenticateResult.Fail("Malformed Basic credentials.");
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                return AuthenticateResult.Fail("Malformed Basic credentials.");
            }

            var user = decoded[..colon];
            return credentials.IsValidBasic(user, decoded[(colon + 1)..])
                ? Success(user, "Basic", admin: true)
                : AuthenticateResult.Fail("Invalid user name or password.");
        }

        return AuthenticateResult.NoResult();
    }

    private async Task<AuthenticateResult> AuthenticateKeyAsync(string key)
    {
        if (credentials.IsValidApiKey(key))
        {
            return Success(RunOwner.KeyId(key), "ApiKey", admin: true);
        }

        try
        {
            var stored = await keys.FindByHashAsync(Convert.ToHexStringLower(SecretComparer.Hash(key)), Context.RequestAborted);
            return stored is { RevokedAt: null }
                ? Success(stored.Id, "ApiKey", stored.Admin)
                : AuthenticateResult.Fail(stored is null ? "Invalid API key." : "The API key has been revoked.");
        }
        catch (StorageException)
        {
            return AuthenticateResult.Fail("API keys cannot be checked now: the router database is unavailable.");
        }
    }

    /// <summary>The <c>token</c> query parameter, on endpoints that accept one (<see cref="QueryTokenAllowed"/>).</summary>
    internal static string? QueryToken(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<QueryTokenAllowed>() is not null
        && context.Request.Query[QueryTokenAllowed.Parameter].ToString() is { Length: > 0 } token
            ? token
            : null;

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append("WWW-Authenticate", $"Bearer realm=\"{RouterAuthentication.Realm}\"");
        // A browser answers a Basic challenge to a script's request with its own password dialog;
        // scripts that sign in themselves (the console) say so with X-Requested-With and get none.
        if (credentials.BasicEnabled && !string.Equals(Request.Headers["X-Requested-With"], "XMLHttpRequest", StringComparison.OrdinalIgnoreCase))
        {
            Response.Headers.Append("WWW-Authenticate", $"Basic realm=\"{RouterAuthentication.Realm}\", charset=\"UTF-8\"");
        }

        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        var problem = Problems.Unauthorized(failure ?? "Credentials are required: an API key as a Bearer token, or Basic auth.");
        await problem.ExecuteAsync(Context);
    }

    private AuthenticateResult Success(string name, string method, bool admin)
    {
        List<Claim> claims = [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.AuthenticationMethod, method)];
        if (admin)
        {
            claims.Add(new Claim(RouterAuthentication.AdminClaim, "true"));
        }

        var identity = new ClaimsIdentity(claims, Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }
}
