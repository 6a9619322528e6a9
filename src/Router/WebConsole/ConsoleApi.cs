using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ComfyOperator.Router.WebConsole;

/// <summary>
/// The web console at <c>/console/</c> (<c>/admin</c> redirects there, and so does <c>/</c> when no
/// worker serves ComfyUI's front end: WebUi/WebUiApi). Its files are
/// public and hold no data; everything it shows comes from <c>/v1</c> with the credentials the user
/// signs in with, sent as an Authorization header (no cookie, so no CSRF).
/// </summary>
internal static class ConsoleApi
{
    public const string Path = "/console/";

    /// <summary>Only the router itself: no outside script, style, font or image (air-gapped clusters); no framing.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self'; script-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin", () => TypedResults.Redirect(Path)).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/console/{**file}", Serve).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    internal static Results<FileContentHttpResult, RedirectHttpResult, NotFound> Serve(string? file, HttpRequest request, HttpResponse response)
    {
        // "/console" matches this route too; relative asset paths need the trailing slash.
        if (string.IsNullOrEmpty(file) && !request.Path.Value!.EndsWith('/'))
        {
            return TypedResults.Redirect(Path);
        }

        if (EmbeddedAssets.Find("console/", string.IsNullOrEmpty(file) ? "index.html" : file) is not { } asset)
        {
            return TypedResults.NotFound();
        }

        response.Headers.CacheControl = "no-cache";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        return TypedResults.File(asset.Body, asset.ContentType);
    }
}
