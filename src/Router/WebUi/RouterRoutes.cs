using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace ComfyOperator.Router.WebUi;

/// <summary>
/// The router's own routes (every endpoint but the web UI's catch-alls), to tell a path the router
/// serves with other methods (<c>POST /object_info</c>: 405, as before) from a path only the
/// front-end worker knows (a custom node's route: proxied).
/// </summary>
internal sealed class RouterRoutes(EndpointDataSource endpoints)
{
    private readonly Lazy<IReadOnlyList<(TemplateMatcher Matcher, IReadOnlyList<string> Methods)>> _routes = new(() =>
        [.. endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText != WebUiApi.CatchAll)
            .Select(e => (
                new TemplateMatcher(new RouteTemplate(e.RoutePattern), new RouteValueDictionary(e.RoutePattern.Defaults)),
                e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []))]);

    /// <summary>The methods the router serves at <paramref name="path"/>, or null when no route of the router's matches it.</summary>
    public IReadOnlyList<string>? MethodsAt(PathString path)
    {
        var matches = _routes.Value.Where(r => r.Matcher.TryMatch(path, [])).ToList();
        return matches.Count == 0 ? null : [.. matches.SelectMany(m => m.Methods).Distinct(StringComparer.OrdinalIgnoreCase)];
    }
}
