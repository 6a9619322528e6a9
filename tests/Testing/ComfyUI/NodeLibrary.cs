namespace ComfyOperator.Testing.ComfyUI;

/// <summary>The node classes the simulator knows, declared like ComfyUI's nodes.py / comfy_extras declare them.</summary>
internal static class NodeLibrary
{
    public static readonly IReadOnlyList<string> Samplers =
    [
        "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2", "dpm_2_ancestral",
        "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu",
        "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu",
        "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm", "ipndm_v", "deis", "res_multistep",
        "res_multistep_cfg_pp", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "gradient_estimation",
        "gradient_estimation_cfg_pp", "er_sde", "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2",
    ];

    public static readonly IReadOnlyList<string> Schedulers =
        ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic", "kl_optimal"];

    private const string SeedMax = "18446744073709551615";

    private static InputSpec Req(string name, string type, string options = "{}") => new(name, "required", type, null, options);

    private static InputSpec Opt(string name, string type, string options = "{}") => new(name, "optional", type, null, options);

    private static InputSpec Combo(string name, Func<ModelFolders, IReadOnlyList<string>> choices, string options = "{}", string category = "required") =>
        new(name, category, null, choices, options);

    private static InputSpec Fixed(string name, IReadOnlyList<string> choices, string options = "{}") => Combo(name, _ => choices, options);

    private static InputSpec Hidden(string name, string type) => new(name, "hidden", type, null, "{}");

    private static readonly InputSpec[] SaveHidden = [Hidden("prompt", "PROMPT"), Hidden("extra_pnginfo", "EXTRA_PNGINFO")];

    public static readonly IReadOnlyList<NodeDefinition> All =
    [
        new("CheckpointLoaderSimple", "Load Checkpoint", "loaders",
            "Loads a diffusion model checkpoint, diffusion models are used to denoise latents.", "nodes", false,
            [Combo("ckpt_name", f => f.List("checkpoints"), """{"tooltip": "The name of the checkpoint (model) to load."}""")],
            ["MODEL", "CLIP", "VAE"], null,
            ["The model used for denoising latents.", "The CLIP model used for encoding text prompts.", "The VAE model used for encoding and decoding images to and from latent space."]),
        new("CLIPTextEncode", "CLIP Text Encode (Prompt)", "conditioning",
            "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.", "nodes", false,
            [Req("text", "STRING", """{"multiline": true, "dynamicPrompts": true, "tooltip": "The text to be encoded."}"""),
             Req("clip", "CLIP", """{"tooltip": "The CLIP model used for encoding the text."}""")],
            ["CONDITIONING"], null, ["A conditioning containing the embedded text used to guide the diffusion model."]),
        new("EmptyLatentImage", "Empty Latent Image", "latent",
            "Create a new batch of empty latent images to be denoised via sampling.", "nodes", false,
            [Req("width", "INT", """{"default": 512, "min": 16, "max": 16384, "step": 8, "tooltip": "The width of the latent images in pixels."}"""),
             Req("height", "INT", """{"default": 512, "min": 16, "max": 16384, "step": 8, "tooltip": "The height of the latent images in pixels."}"""),
             Req("batch_size", "INT", """{"default": 1, "min": 1, "max": 4096, "tooltip": "The number of latent images in the batch."}""")],
            ["LATENT"], null, ["The empty latent image batch."]),
        new("KSampler", "KSampler", "sampling",
            "Uses the provided model, positive and negative conditioning to denoise the latent image.", "nodes", false,
            [Req("model", "MODEL", """{"tooltip": "The model used for denoising the input latent."}"""),
             Req("seed", "INT", $$"""{"default": 0, "min": 0, "max": {{SeedMax}}, "control_after_generate": true, "tooltip": "The random seed used for creating the noise."}"""),
             Req("steps", "INT", """{"default": 20, "min": 1, "max": 10000, "tooltip": "The number of steps used in the denoising process."}"""),
             Req("cfg", "FLOAT", """{"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01, "tooltip": "The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality."}"""),
             Fixed("sampler_name", Samplers, """{"tooltip": "The algorithm used when sampling, this can affect the quality, speed, and style of the generated output."}"""),
             Fixed("scheduler", Schedulers, """{"tooltip": "The scheduler controls how noise is gradually removed to form the image."}"""),
             Req("positive", "CONDITIONING", """{"tooltip": "The conditioning describing the attributes you want to include in the image."}"""),
             Req("negative", "CONDITIONING", """{"tooltip": "The conditioning describing the attributes you want to exclude from the image."}"""),
             Req("latent_image", "LATENT", """{"tooltip": "The latent image to denoise."}"""),
             Req("denoise", "FLOAT", """{"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01, "tooltip": "The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling."}""")],
            ["LATENT"], null, ["The denoised latent."]),
        new("KSamplerAdvanced", "KSampler (Advanced)", "sampling", "", "nodes", false,
            [Req("model", "MODEL"),
             Fixed("add_noise", ["enable", "disable"]),
             Req("noise_seed", "INT", $$"""{"default": 0, "min": 0, "max": {{SeedMax}}, "control_after_generate": true}"""),
             Req("steps", "INT", """{"default": 20, "min": 1, "max": 10000}"""),
             Req("cfg", "FLOAT", """{"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}"""),
             Fixed("sampler_name", Samplers),
             Fixed("scheduler", Schedulers),
             Req("positive", "CONDITIONING"),
             Req("negative", "CONDITIONING"),
             Req("latent_image", "LATENT"),
             Req("start_at_step", "INT", """{"default": 0, "min": 0, "max": 10000}"""),
             Req("end_at_step", "INT", """{"default": 10000, "min": 0, "max": 10000}"""),
             Fixed("return_with_leftover_noise", ["disable", "enable"])],
            ["LATENT"]),
        new("VAEDecode", "VAE Decode", "latent", "Decodes latent images back into pixel space images.", "nodes", false,
            [Req("samples", "LATENT", """{"tooltip": "The latent to be decoded."}"""),
             Req("vae", "VAE", """{"tooltip": "The VAE model used for decoding the latent."}""")],
            ["IMAGE"], null, ["The decoded image."]),
        new("VAEEncode", "VAE Encode", "latent", "", "nodes", false,
            [Req("pixels", "IMAGE"), Req("vae", "VAE")],
            ["LATENT"]),
        new("VAELoader", "Load VAE", "loaders", "", "nodes", false,
            [Combo("vae_name", f => f.List("vae"))], ["VAE"]),
        new("UNETLoader", "Load Diffusion Model", "advanced/loaders", "", "nodes", false,
            [Combo("unet_name", f => f.List("diffusion_models")),
             Fixed("weight_dtype", ["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"])],
            ["MODEL"]),
        new("DualCLIPLoader", "DualCLIPLoader", "advanced/loaders",
            "[Recipes]\n\nsdxl: clip-l, clip-g\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5\nflux: clip-l, t5\nhidream: at least one of t5 or llama, recommended t5 and llama", "nodes", false,
            [Combo("clip_name1", f => f.List("text_encoders")),
             Combo("clip_name2", f => f.List("text_encoders")),
             Fixed("type", ["sdxl", "sd3", "flux", "hunyuan_video", "hidream"]),
             Combo("device", _ => ["default", "cpu"], """{"advanced": true}""", "optional")],
            ["CLIP"]),
        new("CLIPTextEncodeFlux", "CLIPTextEncodeFlux", "advanced/conditioning/flux", "", "comfy_extras.nodes_flux", false,
            [Req("clip", "CLIP"),
             Req("clip_l", "STRING", """{"multiline": true, "dynamicPrompts": true}"""),
             Req("t5xxl", "STRING", """{"multiline": true, "dynamicPrompts": true}"""),
             Req("guidance", "FLOAT", """{"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1}""")],
            ["CONDITIONING"]),
        new("FluxGuidance", "FluxGuidance", "advanced/conditioning/flux", "", "comfy_extras.nodes_flux", false,
            [Req("conditioning", "CONDITIONING"),
             Req("guidance", "FLOAT", """{"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1}""")],
            ["CONDITIONING"]),
        new("EmptySD3LatentImage", "EmptySD3LatentImage", "latent/sd3", "", "comfy_extras.nodes_sd3", false,
            [Req("width", "INT", """{"default": 1024, "min": 16, "max": 16384, "step": 16}"""),
             Req("height", "INT", """{"default": 1024, "min": 16, "max": 16384, "step": 16}"""),
             Req("batch_size", "INT", """{"default": 1, "min": 1, "max": 4096}""")],
            ["LATENT"]),
        new("ConditioningZeroOut", "ConditioningZeroOut", "advanced/conditioning", "", "nodes", false,
            [Req("conditioning", "CONDITIONING")], ["CONDITIONING"]),
        new("LoraLoader", "Load LoRA", "loaders",
            "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.", "nodes", false,
            [Req("model", "MODEL", """{"tooltip": "The diffusion model the LoRA will be applied to."}"""),
             Req("clip", "CLIP", """{"tooltip": "The CLIP model the LoRA will be applied to."}"""),
             Combo("lora_name", f => f.List("loras"), """{"tooltip": "The name of the LoRA."}"""),
             Req("strength_model", "FLOAT", """{"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01, "tooltip": "How strongly to modify the diffusion model. This value can be negative."}"""),
             Req("strength_clip", "FLOAT", """{"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01, "tooltip": "How strongly to modify the CLIP model. This value can be negative."}""")],
            ["MODEL", "CLIP"], null, ["The modified diffusion model.", "The modified CLIP model."]),
        new("SaveImage", "Save Image", "image", "Saves the input images to your ComfyUI output directory.", "nodes", true,
            [Req("images", "IMAGE", """{"tooltip": "The images to save."}"""),
             Req("filename_prefix", "STRING", """{"default": "ComfyUI", "tooltip": "The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes."}"""),
             .. SaveHidden],
            []),
        new("PreviewImage", "Preview Image", "image", "Saves the input images to your ComfyUI output directory.", "nodes", true,
            [Req("images", "IMAGE"), .. SaveHidden], []),
        new("SaveImageWebsocket", "SaveImageWebsocket", "api node/image", "", "custom_nodes.websocket_image_save", true,
            [Req("images", "IMAGE")], [], NotIdempotent: true),
        new("LoadImage", "Load Image", "image", "", "nodes", false,
            [Combo("image", f => f.InputImages(), """{"image_upload": true}""")],
            ["IMAGE", "MASK"], ValidatesInput: "image"),
        new("ImageScale", "Upscale Image", "image/upscaling", "", "nodes", false,
            [Req("image", "IMAGE"),
             Fixed("upscale_method", ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]),
             Req("width", "INT", """{"default": 512, "min": 0, "max": 16384, "step": 1}"""),
             Req("height", "INT", """{"default": 512, "min": 0, "max": 16384, "step": 1}"""),
             Fixed("crop", ["disabled", "center"])],
            ["IMAGE"]),
        new("ImageInvert", "Invert Image", "image", "", "nodes", false,
            [Req("image", "IMAGE")], ["IMAGE"]),
        new("EmptyImage", "EmptyImage", "image", "", "nodes", false,
            [Req("width", "INT", """{"default": 512, "min": 1, "max": 16384, "step": 1}"""),
             Req("height", "INT", """{"default": 512, "min": 1, "max": 16384, "step": 1}"""),
             Req("batch_size", "INT", """{"default": 1, "min": 1, "max": 4096}"""),
             Req("color", "INT", """{"default": 0, "min": 0, "max": 16777215, "step": 1, "display": "color"}""")],
            ["IMAGE"]),
    ];

    private static readonly Dictionary<string, NodeDefinition> ByName = All.ToDictionary(d => d.Name, StringComparer.Ordinal);

    public static NodeDefinition? Find(string classType) => ByName.GetValueOrDefault(classType);
}
