namespace ComfyOperator.Testing.ComfyUI;

/// <summary>The fake model files a simulator gets when no models directory is given.</summary>
internal static class DefaultModels
{
    public static readonly IReadOnlyList<string> Files =
    [
        "checkpoints/v1-5-pruned-emaonly.safetensors",
        "checkpoints/sd_xl_base_1.0.safetensors",
        "checkpoints/sd_xl_refiner_1.0.safetensors",
        "diffusion_models/flux1-dev.safetensors",
        "text_encoders/clip_l.safetensors",
        "text_encoders/t5xxl_fp16.safetensors",
        "vae/ae.safetensors",
        "loras/add_detail.safetensors",
        "embeddings/easynegative.safetensors",
    ];

    public static void Create(string modelsDirectory)
    {
        foreach (var (key, folders) in ModelFolders.Keys)
        {
            _ = key;
            Directory.CreateDirectory(Path.Combine(modelsDirectory, folders[0]));
        }

        foreach (var file in Files)
        {
            var path = Path.Combine(modelsDirectory, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (!File.Exists(path))
            {
                // A safetensors header with empty metadata: 8-byte length + "{}" padded.
                File.WriteAllBytes(path, [2, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']);
            }
        }
    }
}
