using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.WebUi;

/// <summary>
/// Who may reach the front-end worker's own routes through the router: reads need a signed-in caller;
/// writes (custom nodes' POST routes) follow <c>Router:WebUiProxyWrites</c>; the routes under
/// <c>Router:WebUiAdminPaths</c> (ComfyUI-Manager's, which install packages and restart the worker,
/// some on GETs) need an administrator whatever the method.
/// </summary>
internal sealed class FrontEndAccess(IOptions<RouterOptions> options)
{
    private readonly PathString[] _adminPrefixes = [.. Prefixes(options.Value.WebUiAdminPaths).Select(p => new PathString(p))];

    /// <summary>Whether writes go through to the worker at all (<c>Router:WebUiProxyWrites</c> is not <c>off</c>).</summary>
    public static bool WritesProxied(RouterOptions options) =>
        !string.Equals(options.WebUiProxyWrites, WebUiProxyWritesNames.Off, StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the signed-in caller may not send this request to the worker, or null when it may.</summary>
    public string? Refusal(HttpContext context)
    {
        var administrator = RouterAuthentication.IsComfyAdministrator(context, options.Value);
        if (administrator)
        {
            return null;
        }

        var path = context.Request.Path;
        if (path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase, out var rest))
        {
            path = rest;
        }

        if (_adminPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            return "This route of the workers' is for administrators (Router:WebUiAdminPaths).";
        }

        var write = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
        return write && string.Equals(options.Value.WebUiProxyWrites, WebUiProxyWritesNames.Admins, StringComparison.OrdinalIgnoreCase)
            ? "Writes to the workers' own routes are for administrators (Router:WebUiProxyWrites is admins)."
            : null;
    }

    /// <summary>The first entry of a <c>Router:WebUiAdminPaths</c> value that is not a path prefix, or null when all are.</summary>
    public static string? InvalidPrefix(string list) =>
        Prefixes(list).FirstOrDefault(p => !p.StartsWith('/') || p.Length == 1 || p[1..].Split('/').Any(s => s is "" or "." or ".."));

    private static string[] Prefixes(string list) =>
        list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
