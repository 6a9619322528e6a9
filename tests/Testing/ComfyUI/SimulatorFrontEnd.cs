using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>
/// A small stand-in for ComfyUI's front end (<c>ComfyUI/FrontEnd</c>): the page at <c>/</c>, its script
/// and style, and one extension's web file under <c>/extensions/</c>, served the way aiohttp serves
/// static files (ETag, 304 on <c>If-None-Match</c>) with ComfyUI's caching rules (page and scripts
/// <c>no-cache</c>). The page names the server's version and address, so a test can tell which
/// worker served it.
/// </summary>
internal static class SimulatorFrontEnd
{
    private const string Prefix = "frontend/";

    /// <summary>URL path → embedded file.</summary>
    private static readonly FrozenDictionary<string, string> Routes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["/"] = "index.html",
        ["/index.html"] = "index.html",
        ["/scripts/app.js"] = "app.js",
        ["/assets/standin.css"] = "standin.css",
        ["/extensions/standin/hello.js"] = "extensions/standin/hello.js",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly Lazy<FrozenDictionary<string, byte[]>> Files = new(Load);

    /// <summary>The stand-in extension's own server route (a custom node's, such as <c>POST /my_node/action</c>).</summary>
    public const string ExtensionRoute = "/standin/echo";

    /// <summary>What <c>GET /extensions</c> lists: the extensions' scripts the front end imports.</summary>
    public static IReadOnlyList<string> Extensions { get; } = ["/extensions/standin/hello.js"];

    public static bool Serves(string path) => Routes.ContainsKey(path);

    public static async Task ServeAsync(HttpContext context, string path, string version)
    {
        var file = Routes[path];
        var body = Files.Value[file];
        if (file == "index.html")
        {
            body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body)
                .Replace("{{VERSION}}", version, StringComparison.Ordinal)
                .Replace("{{SERVER}}", context.Request.Host.Value, StringComparison.Ordinal));
        }

        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body))[..16] + "\"";
        var response = context.Response;
        response.Headers.ETag = etag;
        response.Headers.CacheControl = file.EndsWith(".css", StringComparison.Ordinal) ? "public, max-age=86400" : "no-cache";
        if (context.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            _ => "text/css; charset=utf-8",
        };
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static FrozenDictionary<string, byte[]> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..].Replace('\\', '/')] = copy.ToArray();
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
