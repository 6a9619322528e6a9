namespace ComfyOperator.Testing.ComfyUI;

/// <summary>The models/ layout of folder_paths.py: folder keys, the sub-folders they search, model extensions.</summary>
internal sealed class ModelFolders(string modelsDirectory, string inputDirectory)
{
    private static readonly string[] ModelExtensions = [".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"];
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"];

    /// <summary>Folder keys in the order GET /models lists them, with the folders each key searches (first wins).</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string[]>> Keys =
    [
        new("checkpoints", ["checkpoints"]),
        new("configs", ["configs"]),
        new("loras", ["loras"]),
        new("vae", ["vae"]),
        new("text_encoders", ["text_encoders", "clip"]),
        new("diffusion_models", ["unet", "diffusion_models"]),
        new("clip_vision", ["clip_vision"]),
        new("style_models", ["style_models"]),
        new("embeddings", ["embeddings"]),
        new("diffusers", ["diffusers"]),
        new("vae_approx", ["vae_approx"]),
        new("controlnet", ["controlnet", "t2i_adapter"]),
        new("gligen", ["gligen"]),
        new("upscale_models", ["upscale_models"]),
        new("custom_nodes", ["custom_nodes"]),
        new("hypernetworks", ["hypernetworks"]),
        new("photomaker", ["photomaker"]),
        new("classifiers", ["classifiers"]),
        new("model_patches", ["model_patches"]),
        new("audio_encoders", ["audio_encoders"]),
    ];

    public string ModelsDirectory { get; } = modelsDirectory;

    public static bool IsKey(string key) => Keys.Any(k => k.Key == key);

    /// <summary>Sorted file paths relative to the folder ('/' separated), filtered by model extension.</summary>
    public IReadOnlyList<string> List(string key)
    {
        var entry = Keys.FirstOrDefault(k => k.Key == key);
        if (entry.Value is null)
        {
            return [];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in entry.Value)
        {
            var root = Path.Combine(ModelsDirectory, folder);
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                var extensionOk = key == "configs"
                    ? file.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)
                    : ModelExtensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase));
                if (extensionOk)
                {
                    seen.Add(Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/'));
                }
            }
        }

        var list = seen.ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    /// <summary>LoadImage's choices: image files at the input folder root, sorted.</summary>
    public IReadOnlyList<string> InputImages()
    {
        if (!Directory.Exists(inputDirectory))
        {
            return [];
        }

        var list = Directory.EnumerateFiles(inputDirectory)
            .Where(f => ImageExtensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Select(Path.GetFileName)
            .Select(f => f!)
            .ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
