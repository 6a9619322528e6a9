using System.Text;

namespace ComfyOperator.Operator.Manifests;

/// <summary>
/// ComfyUI's <c>extra_model_paths.yaml</c> (docs/comfyui-protocol.md §7.2) pointing every model folder at the
/// shared cache, with <c>is_default: true</c> so the cache is searched first.
/// </summary>
internal static class ModelPathsConfig
{
    /// <summary>Folder keys and the cache sub-folders they read; legacy names share the new key's list.</summary>
    private static readonly (string Key, string[] Folders)[] Folders =
    [
        ("checkpoints", ["checkpoints"]),
        ("loras", ["loras"]),
        ("vae", ["vae"]),
        ("text_encoders", ["text_encoders", "clip"]),
        ("diffusion_models", ["diffusion_models", "unet"]),
        ("clip_vision", ["clip_vision"]),
        ("controlnet", ["controlnet"]),
        ("embeddings", ["embeddings"]),
        ("upscale_models", ["upscale_models"]),
        ("style_models", ["style_models"]),
        ("hypernetworks", ["hypernetworks"]),
        ("photomaker", ["photomaker"]),
        ("gligen", ["gligen"]),
        ("vae_approx", ["vae_approx"]),
    ];

    /// <summary>
    /// The YAML for a cache mounted at <paramref name="basePath"/>; folders used by declared models
    /// that ComfyUI does not know are added too, so a new folder type is found as well.
    /// </summary>
    public static string Build(string basePath, IEnumerable<string> extraFolders)
    {
        var builder = new StringBuilder();
        builder.Append("comfy_operator_cache:\n");
        builder.Append("  base_path: ").Append(basePath).Append('\n');
        builder.Append("  is_default: true\n");
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, folders) in Folders)
        {
            Append(builder, key, folders);
            known.Add(key);
            known.UnionWith(folders);
        }

        foreach (var folder in extraFolders.Where(f => !known.Contains(f)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            Append(builder, folder, [folder]);
        }

        return builder.ToString();
    }

    private static void Append(StringBuilder builder, string key, string[] folders)
    {
        if (folders.Length == 1)
        {
            builder.Append("  ").Append(key).Append(": ").Append(folders[0]).Append('\n');
            return;
        }

        builder.Append("  ").Append(key).Append(": |\n");
        foreach (var folder in folders)
        {
            builder.Append("    ").Append(folder).Append('\n');
        }
    }
}
