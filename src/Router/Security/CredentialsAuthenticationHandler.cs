using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using ComfyOperator.Router.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Security;

/// <summary>
/// Accepts <c>Authorization: Bearer &lt;api key&gt;</c> and <c>Authorization: Basic</c>; a challenge
/// answers 401 with <c>WWW-Authenticate</c> for both schemes and a ProblemDetails body.
/// </summary>
internal sealed class CredentialsAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CredentialStore credentials)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) && QueryToken(Context) is { } token)
        {
            return Task.FromResult(credentials.IsValidApiKey(token)
                ? Success("api-key", "ApiKey")
                : AuthenticateResult.Fail("Invalid API key."));
        }

        if (string.IsNullOrEmpty(header) || !AuthenticationHeaderValue.TryParse(header, out var value) || value.Parameter is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (string.Equals(value.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(credentials.IsValidApiKey(value.Parameter)
                ? Success("api-key", "ApiKey")
                : AuthenticateResult.Fail("Invalid API key."));
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
                return Task.FromResult(AuthenticateResult.Fail("Malformed Basic credentials."));
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                return Task.FromResult(AuthenticateResult.Fail("Malformed Basic credentials."));
            }

            var user = decoded[..colon];
            return Task.FromResult(credentials.IsValidBasic(user, decoded[(colon + 1)..])
                ? Success(user, "Basic")
                : AuthenticateResult.Fail("Invalid user name or password."));
        }

        return Task.FromResult(AuthenticateResult.NoResult());
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
        if (credentials.BasicEnabled)
        {
            Response.Headers.Append("WWW-Authenticate", $"Basic realm=\"{RouterAuthentication.Realm}\", charset=\"UTF-8\"");
        }

        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        var problem = Problems.Unauthorized(failure ?? "Credentials are required: an API key as a Bearer token, or Basic auth.");
        await problem.ExecuteAsync(Context);
    }

    private AuthenticateResult Success(string name, string method)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.AuthenticationMethod, method)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }
}
