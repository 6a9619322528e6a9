namespace ComfyOperator.Comfy.Workflows;

/// <summary>
/// The reference graphs of docs/comfyui-protocol.md §8 in API format, for presets, tests and benchmarks.
/// Node ids follow the frontend's default graph for SD1.5/SDXL; every graph has one SaveImage.
/// </summary>
public static class ReferenceGraphs
{
    public const string Sd15Checkpoint = "v1-5-pruned-emaonly.safetensors";
    public const string SdxlBaseCheckpoint = "sd_xl_base_1.0.safetensors";
    public const string FluxDevUnet = "flux1-dev.safetensors";
    public const string FluxClipL = "clip_l.safetensors";
    public const string FluxT5xxl = "t5xxl_fp16.safetensors";
    public const string FluxVae = "ae.safetensors";

    /// <summary>docs/comfyui-protocol.md §8.1: SD1.5 text-to-image, 512×512, 20 steps. Positive prompt node "6", negative "7", sampler "3", save "9".</summary>
    public const string Sd15 = """
        {
          "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}, "_meta": {"title": "Load Checkpoint"}},
          "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}, "_meta": {"title": "Empty Latent Image"}},
          "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse on a cliff at dusk, oil painting", "clip": ["4", 1]}, "_meta": {"title": "Positive Prompt"}},
          "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, low quality", "clip": ["4", 1]}, "_meta": {"title": "Negative Prompt"}},
          "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 8.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
                "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}, "_meta": {"title": "KSampler"}},
          "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "_meta": {"title": "VAE Decode"}},
          "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "_meta": {"title": "Save Image"}}
        }
        """;

    /// <summary>docs/comfyui-protocol.md §8.2 base only: the SD1.5 graph with the SDXL base checkpoint at 1024×1024.</summary>
    public const string SdxlBase = """
        {
          "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}, "_meta": {"title": "Load Checkpoint"}},
          "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}, "_meta": {"title": "Empty Latent Image"}},
          "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox in fresh snow, golden hour, detailed fur", "clip": ["4", 1]}, "_meta": {"title": "Positive Prompt"}},
          "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}, "_meta": {"title": "Negative Prompt"}},
          "3": {"class_type": "KSampler", "inputs": {"seed": 7, "steps": 25, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
                "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}, "_meta": {"title": "KSampler"}},
          "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "_meta": {"title": "VAE Decode"}},
          "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "sdxl", "images": ["8", 0]}, "_meta": {"title": "Save Image"}}
        }
        """;

    /// <summary>docs/comfyui-protocol.md §8.3 template flux_dev_full_text_to_image: UNETLoader + DualCLIPLoader + VAELoader, CLIPTextEncodeFlux, ConditioningZeroOut negative.</summary>
    public const string FluxDev = """
        {
          "12": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}, "_meta": {"title": "Load Diffusion Model"}},
          "11": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "clip_l.safetensors", "clip_name2": "t5xxl_fp16.safetensors", "type": "flux"}, "_meta": {"title": "DualCLIPLoader"}},
          "10": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}, "_meta": {"title": "Load VAE"}},
          "6": {"class_type": "CLIPTextEncodeFlux", "inputs": {"clip_l": "a tiny robot watering a bonsai", "t5xxl": "a tiny robot watering a bonsai tree on a windowsill, soft morning light", "guidance": 3.5, "clip": ["11", 0]}, "_meta": {"title": "Positive Prompt"}},
          "33": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}, "_meta": {"title": "Negative (zero)"}},
          "27": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}, "_meta": {"title": "EmptySD3LatentImage"}},
          "31": {"class_type": "KSampler", "inputs": {"seed": 1234, "steps": 20, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
                 "model": ["12", 0], "positive": ["6", 0], "negative": ["33", 0], "latent_image": ["27", 0]}, "_meta": {"title": "KSampler"}},
          "8": {"class_type": "VAEDecode", "inputs": {"samples": ["31", 0], "vae": ["10", 0]}, "_meta": {"title": "VAE Decode"}},
          "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "flux", "images": ["8", 0]}, "_meta": {"title": "Save Image"}}
        }
        """;

    /// <summary>The three graphs by a short name (sd15, sdxl, flux-dev).</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sd15"] = Sd15,
        ["sdxl"] = SdxlBase,
        ["flux-dev"] = FluxDev,
    };
}
