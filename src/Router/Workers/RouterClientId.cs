using ComfyOperator.Router.Configuration;

namespace ComfyOperator.Router.Workers;

/// <summary>
/// The client id this router gives ComfyUI. Kept in the data directory so a restarted router
/// reconnects under the same id and keeps receiving the events of prompts it posted before.
/// </summary>
internal static class RouterClientId
{
    public static string LoadOrCreate(RouterOptions options)
    {
        var path = Path.Combine(Path.GetDirectoryName(options.ResolvedDatabasePath)!, "client-id");
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0)
            {
                return existing;
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var id = "comfy-router-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(path, id);
        return id;
    }
}
