using System.Collections.Frozen;
using System.Reflection;

namespace ComfyOperator.Router.WebConsole;

/// <summary>
/// The console's static files, embedded in the router's assembly (<c>WebConsole/Assets</c>), so the
/// image carries them and they never come from outside: no build step, no CDN.
/// </summary>
internal static class ConsoleAssets
{
    private const string Prefix = "console/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Lazy<FrozenDictionary<string, (byte[] Body, string ContentType)>> Files = new(Load);

    /// <summary>The file at <paramref name="path"/> (relative to <c>/console/</c>), or null.</summary>
    public static (byte[] Body, string ContentType)? Find(string path) =>
        Files.Value.TryGetValue(path, out var file) ? file : null;

    private static FrozenDictionary<string, (byte[] Body, string ContentType)> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var path = name[Prefix.Length..].Replace('\\', '/');
            files[path] = (copy.ToArray(), ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream"));
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
