using System.Text;
using ComfyOperator.Router.Api;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.WebConsole;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.WebUi;

/// <summary>
/// ComfyUI's web UI through the router: <c>GET /</c> and every other read the router does not answer
/// itself (the front end's assets, <c>/extensions/…</c> web files, <c>/templates/…</c>, <c>/i18n</c>,
/// <c>/internal/…</c>…) come from one healthy worker (<see cref="FrontEndWorkers"/>), while the
/// editor's API calls hit ComfyApi like any script's, so its Queue button goes through the scheduler.
/// A browser signs in at <c>/signin</c> (or opens <c>/?token=KEY</c>) and gets a session cookie
/// (<see cref="BrowserSession"/>). Without a worker that serves a page, <c>/</c> is the console.
/// </summary>
internal static class WebUiApi
{
    private const string SignInPath = "/signin";

    /// <summary>The router's own addresses: never sent to a worker, so an unknown one stays a 404 problem.</summary>
    private static readonly string[] OwnPrefixes = ["/v1", "/console", "/admin", "/docs", "/openapi", "/metrics", "/healthz", "/readyz", SignInPath, "/signout"];

    /// <summary>The pattern of the routes that send what the router does not serve to the front-end worker.</summary>
    internal const string CatchAll = "/{**path}";

    public static IEndpointRouteBuilder MapWebUi(this IEndpointRouteBuilder app)
    {
        var metadata = new object[] { new BrowserSessionAllowed(), new QueryTokenAllowed() };
        app.MapGet("/", IndexAsync).AllowAnonymous().ExcludeFromDescription().WithMetadata(metadata);
        app.MapMethods(CatchAll, [HttpMethods.Get, HttpMethods.Head], FrontEndFileAsync).AllowAnonymous().ExcludeFromDescription().WithMetadata(metadata);
        if (FrontEndAccess.WritesProxied(app.ServiceProvider.GetRequiredService<IOptions<RouterOptions>>().Value))
        {
            app.MapMethods(CatchAll, [HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete], FrontEndWriteAsync)
                .AllowAnonymous().ExcludeFromDescription().WithMetadata(metadata).DisableAntiforgery();
        }

        app.MapGet(SignInPath, (HttpResponse response) => SignInPage(response, null, StatusCodes.Status200OK)).AllowAnonymous().ExcludeFromDescription();
        app.MapPost(SignInPath, SignInAsync).AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        app.MapPost("/signout", (HttpContext context) =>
        {
            BrowserSession.SignOut(context);
            return TypedResults.Redirect(SignInPath);
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>ComfyUI's editor, once signed in; <c>?token=KEY</c> signs the browser in with that key first.</summary>
    internal static async Task<IResult> IndexAsync(HttpContext context, FrontEndProxy proxy, FrontEndWorkers workers, BrowserSession session, IOptions<RouterOptions> options, CancellationToken cancellationToken)
    {
        if (CredentialsAuthenticationHandler.QueryToken(context) is { } token && context.User.Identity?.IsAuthenticated == true)
        {
            session.SignIn(context, CredentialsAuthenticator.Bearer(token));
            return TypedResults.Redirect("/");
        }

        if (!SignedIn(context, options.Value))
        {
            // Nothing to sign in to without a worker: the console (which has its own sign-in) says why.
            return workers.Candidates().Count > 0 ? TypedResults.Redirect(SignInPath) : TypedResults.Redirect(ConsoleApi.Path);
        }

        return await proxy.ProxyAsync(context, cancellationToken) switch
        {
            FrontEndOutcome.Served => TypedResults.Empty,
            _ => TypedResults.Redirect(ConsoleApi.Path),
        };
    }

    internal static async Task<IResult> FrontEndFileAsync(
        HttpContext context, FrontEndProxy proxy, FrontEndAccess access, IOptions<RouterOptions> options, CancellationToken cancellationToken)
    {
        if (OwnPrefix(context.Request.Path))
        {
            return TypedResults.NotFound();
        }

        return await ProxyAsync(context, proxy, access, options.Value, cancellationToken);
    }

    /// <summary>
    /// A write to a route the router does not serve (a custom node's own route, which its editor extension
    /// calls) goes to the front-end worker as <c>Router:WebUiProxyWrites</c> allows. A path the router serves
    /// with other methods answers 405 as before, and the router's own prefixes 404: those never reach a worker.
    /// </summary>
    internal static async Task<IResult> FrontEndWriteAsync(
        HttpContext context, FrontEndProxy proxy, FrontEndAccess access, RouterRoutes routes, IOptions<RouterOptions> options, CancellationToken cancellationToken)
    {
        var path = context.Request.Path;
        if (routes.MethodsAt(path) is { } methods)
        {
            context.Response.Headers.Allow = string.Join(", ", methods);
            return TypedResults.StatusCode(StatusCodes.Status405MethodNotAllowed);
        }

        if (OwnPrefix(path))
        {
            return TypedResults.NotFound();
        }

        return await ProxyAsync(context, proxy, access, options.Value, cancellationToken);
    }

    private static bool OwnPrefix(PathString path) => OwnPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    private static async Task<IResult> ProxyAsync(HttpContext context, FrontEndProxy proxy, FrontEndAccess access, RouterOptions options, CancellationToken cancellationToken)
    {
        if (!SignedIn(context, options))
        {
            await context.ChallengeAsync(RouterAuthentication.Scheme);
            return TypedResults.Empty;
        }

        if (access.Refusal(context) is { } refusal)
        {
            return TypedResults.Text(refusal, statusCode: StatusCodes.Status403Forbidden);
        }

        return await proxy.ProxyAsync(context, cancellationToken) switch
        {
            FrontEndOutcome.Served => TypedResults.Empty,
            FrontEndOutcome.NotFound => TypedResults.Text("404: Not Found", statusCode: StatusCodes.Status404NotFound),
            FrontEndOutcome.TooLarge => RequestBodyLimitMiddleware.TooLarge(options.WebUiProxyMaxBodyBytes, "Router:WebUiProxyMaxBodyBytes"),
            FrontEndOutcome.Failed => TypedResults.Text(
                "The ComfyUI worker serving the web UI failed this request; it was not sent to another worker, since this one may have acted on it.",
                statusCode: StatusCodes.Status502BadGateway),
            _ => TypedResults.Text("No healthy ComfyUI worker serves the web UI now.", statusCode: StatusCodes.Status503ServiceUnavailable),
        };
    }

    /// <summary>Signs the browser in with an API key, or the Basic user and password, from the sign-in form.</summary>
    internal static async Task<IResult> SignInAsync(HttpContext context, CredentialsAuthenticator authenticator, BrowserSession session, CancellationToken cancellationToken)
    {
        if (!context.Request.HasFormContentType || !BrowserSession.FromSameOrigin(context.Request))
        {
            return SignInPage(context.Response, "Sign in from this page.", StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(cancellationToken);
        var key = form["key"].ToString().Trim();
        var user = form["username"].ToString();
        var authorization = key.Length > 0 ? CredentialsAuthenticator.Bearer(key)
            : user.Length > 0 ? CredentialsAuthenticator.Basic(user, form["password"].ToString())
            : null;
        if (authorization is null)
        {
            return SignInPage(context.Response, "Enter an API key, or a user name and password.", StatusCodes.Status400BadRequest);
        }

        var result = await authenticator.AuthenticateAsync(authorization, RouterAuthentication.Scheme, cancellationToken);
        if (!result.Succeeded)
        {
            return SignInPage(context.Response, result.Failure?.Message ?? "Not signed in.", StatusCodes.Status401Unauthorized);
        }

        session.SignIn(context, authorization);
        var back = form["return"].ToString();
        return TypedResults.Redirect(back.StartsWith('/') && !back.StartsWith("//", StringComparison.Ordinal) && !back.StartsWith("/\\", StringComparison.Ordinal) ? back : "/");
    }

    private static bool SignedIn(HttpContext context, RouterOptions options) =>
        options.ComfyApiAnonymous || context.User.Identity?.IsAuthenticated == true;

    private static ContentHttpResult SignInPage(HttpResponse response, string? message, int status)
    {
        var page = Encoding.UTF8.GetString(EmbeddedAssets.Find("webui/", "signin.html")!.Value.Body);
        if (message is not null)
        {
            page = page.Replace("<!--message-->", $"<p role=\"alert\" class=\"error\">{System.Net.WebUtility.HtmlEncode(message)}</p>", StringComparison.Ordinal);
        }

        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = ConsoleApi.ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        // Not no-referrer: with it a browser sends "Origin: null" on the form's POST, and the sign-in refuses requests from elsewhere.
        response.Headers["Referrer-Policy"] = "same-origin";
        return TypedResults.Content(page, "text/html; charset=utf-8", statusCode: status);
    }
}
