using System.Text.Encodings.Web;
using ComfyOperator.Router.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Security;

/// <summary>
/// Accepts <c>Authorization: Bearer &lt;api key&gt;</c> (a key from the configuration or keys file, or
/// one created through <c>/v1/keys</c> and not revoked) and <c>Authorization: Basic</c>; on the routes
/// that allow them, also the <c>token</c> query parameter and the web UI's session cookie
/// (<see cref="BrowserSession"/>). A challenge answers 401 with <c>WWW-Authenticate</c> for both
/// schemes and a ProblemDetails body. Administrators get <see cref="RouterAuthentication.AdminClaim"/>.
/// </summary>
internal sealed class CredentialsAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CredentialStore credentials,
    CredentialsAuthenticator authenticator,
    BrowserSession session)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (!string.IsNullOrEmpty(header))
        {
            return await authenticator.AuthenticateAsync(header, Scheme.Name, Context.RequestAborted);
        }

        if (QueryToken(Context) is { } token)
        {
            return await authenticator.AuthenticateAsync(CredentialsAuthenticator.Bearer(token), Scheme.Name, Context.RequestAborted);
        }

        if (Context.GetEndpoint()?.Metadata.GetMetadata<BrowserSessionAllowed>() is not null && session.Read(Request) is { } stored)
        {
            return BrowserSession.FromSameOrigin(Request)
                ? await authenticator.AuthenticateAsync(stored, Scheme.Name, Context.RequestAborted)
                : AuthenticateResult.Fail("A request from another site may not use the web UI's session.");
        }

        return AuthenticateResult.NoResult();
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
}
