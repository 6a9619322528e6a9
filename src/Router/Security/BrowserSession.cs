using ComfyOperator.Router.Configuration;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Security;

/// <summary>
/// The web UI's sign-in: ComfyUI's front end calls <c>fetch</c> and opens its WebSocket without
/// credentials of its own, so a browser signs in once (an API key, or the Basic user) and gets an
/// HttpOnly, SameSite=Strict cookie holding that credential, encrypted and time-limited with the
/// router's data-protection key ring (kept in the router's database by <see cref="DatabaseXmlRepository"/>,
/// so every replica and every restart accepts it). Every request checks the credential again, so revoking the key ends the session.
/// Cross-site request forgery: the browser does not send a SameSite=Strict cookie with another site's
/// requests, and a request that changes something (any method but GET/HEAD, and every WebSocket) is
/// refused when its <c>Origin</c> is not the router's own.
/// </summary>
internal sealed class BrowserSession(IDataProtectionProvider protection, IOptions<RouterOptions> options, TimeProvider time)
{
    public const string CookieName = "comfy_router_session";

    private const string Purpose = "ComfyOperator.Router.BrowserSession.v1";

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector(Purpose).ToTimeLimitedDataProtector();

    /// <summary>Signs the browser in: the cookie carries <paramref name="authorization"/> (an Authorization header value).</summary>
    public void SignIn(HttpContext context, string authorization)
    {
        var lifetime = options.Value.WebUiSessionLifetime;
        var value = _protector.Protect(authorization, time.GetUtcNow() + lifetime);
        context.Response.Cookies.Append(CookieName, value, Cookie(context, lifetime));
    }

    public static void SignOut(HttpContext context) =>
        context.Response.Cookies.Delete(CookieName, Cookie(context, null));

    /// <summary>The credential in the request's session cookie, or null when there is none or it expired or was tampered with.</summary>
    public string? Read(HttpRequest request)
    {
        if (request.Cookies[CookieName] is not { Length: > 0 } value)
        {
            return null;
        }

        try
        {
            return _protector.Unprotect(value, out var expires) is { } authorization && expires > time.GetUtcNow() ? authorization : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether a request that carries the cookie may act with it: reads (GET, HEAD) always; anything else
    /// and WebSocket upgrades only from a page of the router itself (its <c>Origin</c>, else its
    /// <c>Referer</c>, names the host the request was sent to).
    /// </summary>
    public static bool FromSameOrigin(HttpRequest request)
    {
        var reads = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        if (reads && !request.HttpContext.WebSockets.IsWebSocketRequest)
        {
            return true;
        }

        var source = request.Headers.Origin.ToString() is { Length: > 0 } origin && origin != "null" ? origin : request.Headers.Referer.ToString();
        return Uri.TryCreate(source, UriKind.Absolute, out var uri)
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static CookieOptions Cookie(HttpContext context, TimeSpan? lifetime) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        MaxAge = lifetime,
        IsEssential = true,
    };
}
