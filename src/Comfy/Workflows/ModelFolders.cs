namespace ComfyOperator.Comfy.Workflows;

/// <summary>
/// Which model folder (docs/comfyui-protocol.md §7.1 keys) a loader input names a file in. Class-specific
/// entries win over input names, because some names are shared (CLIPVisionLoader's clip_name
/// is a clip_vision file, not a text encoder).
/// </summary>
public static class ModelFolders
{
    private static readonly Dictionary<string, string> ByInputName = new(StringComparer.Ordinal)
    {
        ["ckpt_name"] = "checkpoints",
        ["unet_name"] = "diffusion_models",
        ["clip_name"] = "text_encoders",
        ["clip_name1"] = "text_encoders",
        ["clip_name2"] = "text_encoders",
        ["clip_name3"] = "text_encoders",
        ["clip_name4"] = "text_encoders",
        ["vae_name"] = "vae",
        ["lora_name"] = "loras",
        ["control_net_name"] = "controlnet",
        ["model_name"] = "upscale_models",
        ["style_model_name"] = "style_models",
        ["gligen_name"] = "gligen",
        ["hypernetwork_name"] = "hypernetworks",
        ["photomaker_model_name"] = "photomaker",
        ["config_name"] = "configs",
        ["audio_encoder_name"] = "audio_encoders",
    };

    private static readonly Dictionary<(string ClassType, string Input), string?> ByClass = new()
    {
        [("CLIPVisionLoader", "clip_name")] = "clip_vision",
        [("UpscaleModelLoader", "model_name")] = "upscale_models",
        [("DiffusersLoader", "model_path")] = "diffusers",
        [("ModelPatchLoader", "name")] = "model_patches",
        [("CheckpointLoader", "config_name")] = "configs",
    };

    private static readonly HashSet<string> GuardedInputs = new(StringComparer.Ordinal) { "model_name" };

    /// <summary>The folder key for a loader input, or null when the input does not name a model file.</summary>
    public static string? For(string classType, string inputName)
    {
        ArgumentNullException.ThrowIfNull(classType);
        ArgumentNullException.ThrowIfNull(inputName);
        if (ByClass.TryGetValue((classType, inputName), out var folder))
        {
            return folder;
        }

        // "model_name" is a generic word; only trust them on loader classes.
        if (GuardedInputs.Contains(inputName) && !classType.Contains("Loader", StringComparison.Ordinal))
        {
            return null;
        }

        return ByInputName.GetValueOrDefault(inputName);
    }
}
