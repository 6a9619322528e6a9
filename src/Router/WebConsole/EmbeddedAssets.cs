using System.Collections.Frozen;
using System.Reflection;

namespace ComfyOperator.Router.WebConsole;

/// <summary>
/// Static files embedded in the router's assembly (the console's <c>WebConsole/Assets</c> as
/// <c>console/…</c>, the web UI's sign-in page as <c>webui/…</c>), so the image carries them and they
/// never come from outside: no build step, no CDN.
/// </summary>
internal static class EmbeddedAssets
{
    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Lazy<FrozenDictionary<string, (byte[] Body, string ContentType)>> Files = new(Load);

    /// <summary>The file at <paramref name="path"/> under <paramref name="prefix"/> (<c>console/</c>, <c>webui/</c>), or null.</summary>
    public static (byte[] Body, string ContentType)? Find(string prefix, string path) =>
        Files.Value.TryGetValue(prefix + path, out var file) ? file : null;

    private static FrozenDictionary<string, (byte[] Body, string ContentType)> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("console/", StringComparison.Ordinal) || n.StartsWith("webui/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var path = name.Replace('\\', '/');
            files[path] = (copy.ToArray(), ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream"));
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
