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

    /// <summary>The keys <c>GET /experiment/models</c> lists (model_manager.py leaves out configs and custom_nodes).</summary>
    public static IEnumerable<KeyValuePair<string, string[]>> ExperimentKeys => Keys.Where(k => k.Key is not "configs" and not "custom_nodes");

    /// <summary><c>GET /experiment/models/{key}</c>: each model file with the index of the folder it is in, its times and size.</summary>
    public IReadOnlyList<(string Name, int PathIndex, FileInfo File)> Files(string key)
    {
        var folders = Keys.First(k => k.Key == key).Value;
        var files = new List<(string, int, FileInfo)>();
        foreach (var name in List(key))
        {
            var index = Array.FindIndex(folders, f => File.Exists(Path.Combine(ModelsDirectory, f, name)));
            files.Add((name, index, new FileInfo(Path.Combine(ModelsDirectory, folders[index], name))));
        }

        return files;
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
