using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Workflows;
using ComfyOperator.Entities;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// The presets <c>sd15</c>, <c>sdxl</c> (base, optional refiner) and <c>flux</c> (dev): the graphs
/// of docs/comfyui-protocol.md §8 with typed inputs, served as workflows of the same names without any
/// WorkflowDeployment (the original Comfy Router's <c>POST /workflow</c>) and usable as
/// <c>preset:</c> in one. An <c>init_image</c> switches to image-to-image (LoadImage → VAEEncode
/// instead of the empty latent); an SDXL <c>refiner_checkpoint</c> switches to the base + refiner graph.
/// </summary>
internal static class BuiltInWorkflows
{
    public const string InitImage = "init_image";
    public const string RefinerCheckpoint = "refiner_checkpoint";

    /// <summary>Sampler names every ComfyUI since 2024 has (the live list is in /object_info).</summary>
    public static IReadOnlyList<string> Samplers { get; } =
        ["euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_3m_sde", "ddpm", "lcm", "ddim", "uni_pc", "uni_pc_bh2"];

    public static IReadOnlyList<string> Schedulers { get; } =
        ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic", "kl_optimal"];

    public static IReadOnlyList<string> Names { get; } = [WorkflowPresets.Sd15, WorkflowPresets.Sdxl, WorkflowPresets.Flux];

    private static readonly Dictionary<string, WorkflowDefinition> ByName = new(StringComparer.Ordinal)
    {
        [WorkflowPresets.Sd15] = StableDiffusion(WorkflowPresets.Sd15, ReferenceGraphs.Sd15, ReferenceGraphs.Sd15Checkpoint, 512, 20, 8.0, refiner: false,
            "Stable Diffusion 1.5 text-to-image (image-to-image with init_image)."),
        [WorkflowPresets.Sdxl] = StableDiffusion(WorkflowPresets.Sdxl, ReferenceGraphs.SdxlBase, ReferenceGraphs.SdxlBaseCheckpoint, 1024, 25, 7.0, refiner: true,
            "SDXL base text-to-image; refiner_checkpoint adds the refiner pass, init_image makes it image-to-image."),
        [WorkflowPresets.Flux] = Flux(),
    };

    public static IReadOnlyCollection<WorkflowDefinition> All => ByName.Values;

    public static WorkflowDefinition? Find(string name) => ByName.GetValueOrDefault(name);

    private static WorkflowDefinition StableDiffusion(string name, string graphJson, string checkpoint, int size, int steps, double cfg, bool refiner, string description)
    {
        List<WorkflowInput> inputs =
        [
            Input("prompt", "6", "text", WorkflowInputType.StringType, null, "What to draw.", required: true),
            Input("negative_prompt", "7", "text", WorkflowInputType.StringType, "", "What to avoid."),
            Input("seed", "3", "seed", WorkflowInputType.IntegerType, 0, "Noise seed.", 0, 18446744073709551615d),
            Input("steps", "3", "steps", WorkflowInputType.IntegerType, steps, "Sampler steps.", 1, 10000),
            Input("cfg", "3", "cfg", WorkflowInputType.NumberType, cfg, "Classifier-free guidance scale.", 0, 100),
            Enum(Input("sampler", "3", "sampler_name", WorkflowInputType.StringType, "euler", "Sampler."), Samplers),
            Enum(Input("scheduler", "3", "scheduler", WorkflowInputType.StringType, "normal", "Noise schedule."), Schedulers),
            Input("width", "5", "width", WorkflowInputType.IntegerType, size, "Image width in pixels (text-to-image).", 16, 16384),
            Input("height", "5", "height", WorkflowInputType.IntegerType, size, "Image height in pixels (text-to-image).", 16, 16384),
            Input("batch_size", "5", "batch_size", WorkflowInputType.IntegerType, 1, "Images per run (text-to-image).", 1, 64),
            Input("checkpoint", "4", "ckpt_name", WorkflowInputType.StringType, checkpoint, "Checkpoint file in models/checkpoints."),
            Input("denoise", "3", "denoise", WorkflowInputType.NumberType, 1.0, "How much of the image is re-drawn (lower keeps more of init_image).", 0, 1),
            Input(InitImage, "20", "image", WorkflowInputType.ImageType, null, "Optional image for image-to-image: an http(s) URL, a data: URI or an uploaded file."),
        ];
        if (refiner)
        {
            inputs.Add(Input(RefinerCheckpoint, "12", "ckpt_name", WorkflowInputType.StringType, null, "Optional refiner checkpoint (e.g. sd_xl_refiner_1.0.safetensors): adds the refiner pass."));
            inputs.Add(Input("refiner_start_step", "10", "end_at_step", WorkflowInputType.IntegerType, Math.Max(1, steps * 4 / 5), "Step at which the refiner takes over.", 1, 10000));
        }

        var baseGraph = Parse(graphJson);
        var baseTargets = SingleTargets(inputs);
        var refinerGraph = refiner ? RefinerGraph(baseGraph) : null;
        var refinerTargets = refiner ? RefinerTargets(inputs) : null;

        return new WorkflowDefinition
        {
            Name = name,
            Source = WorkflowSourceNames.Preset,
            Preset = name,
            Description = description,
            Inputs = inputs,
            Outputs = [new WorkflowOutput { Name = "images", Node = "9" }],
            Models = WorkflowGraph.Parse(baseGraph).GetModelReferences(),
            QueueWhenUnavailable = false,
            SelectGraph = present =>
            {
                var useRefiner = refinerGraph is not null && present.Contains(RefinerCheckpoint);
                var graph = (JsonObject)(useRefiner ? refinerGraph! : baseGraph).DeepClone();
                var targets = useRefiner ? refinerTargets! : baseTargets;
                if (present.Contains(InitImage))
                {
                    ToImageToImage(graph, useRefiner ? "10" : "3", "5", ["4", 2]);
                }

                return new WorkflowGraphVariant(graph, targets);
            },
        };
    }

    private static WorkflowDefinition Flux()
    {
        List<WorkflowInput> inputs =
        [
            Input("prompt", "6", "t5xxl", WorkflowInputType.StringType, null, "What to draw.", required: true),
            Input("seed", "31", "seed", WorkflowInputType.IntegerType, 0, "Noise seed.", 0, 18446744073709551615d),
            Input("steps", "31", "steps", WorkflowInputType.IntegerType, 20, "Sampler steps.", 1, 10000),
            Input("cfg", "31", "cfg", WorkflowInputType.NumberType, 1.0, "CFG scale (Flux dev: keep 1).", 0, 100),
            Input("guidance", "6", "guidance", WorkflowInputType.NumberType, 3.5, "Flux distilled guidance.", 0, 100),
            Enum(Input("sampler", "31", "sampler_name", WorkflowInputType.StringType, "euler", "Sampler."), Samplers),
            Enum(Input("scheduler", "31", "scheduler", WorkflowInputType.StringType, "simple", "Noise schedule."), Schedulers),
            Input("width", "27", "width", WorkflowInputType.IntegerType, 1024, "Image width in pixels (text-to-image).", 16, 16384),
            Input("height", "27", "height", WorkflowInputType.IntegerType, 1024, "Image height in pixels (text-to-image).", 16, 16384),
            Input("batch_size", "27", "batch_size", WorkflowInputType.IntegerType, 1, "Images per run (text-to-image).", 1, 64),
            Input("unet", "12", "unet_name", WorkflowInputType.StringType, ReferenceGraphs.FluxDevUnet, "Diffusion model in models/diffusion_models."),
            Input("clip_l", "11", "clip_name1", WorkflowInputType.StringType, ReferenceGraphs.FluxClipL, "CLIP-L text encoder in models/text_encoders."),
            Input("t5xxl", "11", "clip_name2", WorkflowInputType.StringType, ReferenceGraphs.FluxT5xxl, "T5-XXL text encoder in models/text_encoders."),
            Input("vae", "10", "vae_name", WorkflowInputType.StringType, ReferenceGraphs.FluxVae, "VAE in models/vae."),
            Input("denoise", "31", "denoise", WorkflowInputType.NumberType, 1.0, "How much of the image is re-drawn (lower keeps more of init_image).", 0, 1),
            Input(InitImage, "20", "image", WorkflowInputType.ImageType, null, "Optional image for image-to-image: an http(s) URL, a data: URI or an uploaded file."),
        ];
        var targets = SingleTargets(inputs);
        var prompt = (List<InputTarget>)targets["prompt"];
        prompt.Add(new InputTarget("6", "clip_l"));
        var graph = Parse(ReferenceGraphs.FluxDev);
        return new WorkflowDefinition
        {
            Name = WorkflowPresets.Flux,
            Source = WorkflowSourceNames.Preset,
            Preset = WorkflowPresets.Flux,
            Description = "Flux dev text-to-image (image-to-image with init_image).",
            Inputs = inputs,
            Outputs = [new WorkflowOutput { Name = "images", Node = "9" }],
            Models = WorkflowGraph.Parse(graph).GetModelReferences(),
            SelectGraph = present =>
            {
                var copy = (JsonObject)graph.DeepClone();
                if (present.Contains(InitImage))
                {
                    ToImageToImage(copy, "31", "27", ["10", 0]);
                }

                return new WorkflowGraphVariant(copy, targets);
            },
        };
    }

    /// <summary>docs/comfyui-protocol.md §8.2 sdxl_simple_example: base KSamplerAdvanced hands its leftover noise to the refiner's.</summary>
    private static JsonObject RefinerGraph(JsonObject baseGraph)
    {
        var graph = (JsonObject)baseGraph.DeepClone();
        var sampler = graph["3"]!["inputs"]!.AsObject();
        graph.Remove("3");
        graph["12"] = Node("CheckpointLoaderSimple", "Load Refiner", new JsonObject { ["ckpt_name"] = "sd_xl_refiner_1.0.safetensors" });
        graph["15"] = Node("CLIPTextEncode", "Refiner Positive", new JsonObject { ["text"] = graph["6"]!["inputs"]!["text"]!.DeepClone(), ["clip"] = Link("12", 1) });
        graph["16"] = Node("CLIPTextEncode", "Refiner Negative", new JsonObject { ["text"] = graph["7"]!["inputs"]!["text"]!.DeepClone(), ["clip"] = Link("12", 1) });
        graph["10"] = Node("KSamplerAdvanced", "Base Sampler", new JsonObject
        {
            ["add_noise"] = "enable",
            ["noise_seed"] = sampler["seed"]!.DeepClone(),
            ["steps"] = sampler["steps"]!.DeepClone(),
            ["cfg"] = sampler["cfg"]!.DeepClone(),
            ["sampler_name"] = sampler["sampler_name"]!.DeepClone(),
            ["scheduler"] = sampler["scheduler"]!.DeepClone(),
            ["start_at_step"] = 0,
            ["end_at_step"] = 20,
            ["return_with_leftover_noise"] = "enable",
            ["model"] = Link("4", 0),
            ["positive"] = Link("6", 0),
            ["negative"] = Link("7", 0),
            ["latent_image"] = Link("5", 0),
        });
        graph["11"] = Node("KSamplerAdvanced", "Refiner Sampler", new JsonObject
        {
            ["add_noise"] = "disable",
            ["noise_seed"] = sampler["seed"]!.DeepClone(),
            ["steps"] = sampler["steps"]!.DeepClone(),
            ["cfg"] = sampler["cfg"]!.DeepClone(),
            ["sampler_name"] = sampler["sampler_name"]!.DeepClone(),
            ["scheduler"] = sampler["scheduler"]!.DeepClone(),
            ["start_at_step"] = 20,
            ["end_at_step"] = 10000,
            ["return_with_leftover_noise"] = "disable",
            ["model"] = Link("12", 0),
            ["positive"] = Link("15", 0),
            ["negative"] = Link("16", 0),
            ["latent_image"] = Link("10", 0),
        });
        graph["8"]!["inputs"]!["samples"] = Link("11", 0);
        graph["8"]!["inputs"]!["vae"] = Link("12", 2);
        return graph;
    }

    private static Dictionary<string, IReadOnlyList<InputTarget>> RefinerTargets(IEnumerable<WorkflowInput> inputs)
    {
        var targets = new Dictionary<string, IReadOnlyList<InputTarget>>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            targets[input.Name] = input.Name switch
            {
                "prompt" => [new("6", "text"), new("15", "text")],
                "negative_prompt" => [new("7", "text"), new("16", "text")],
                "seed" => [new("10", "noise_seed"), new("11", "noise_seed")],
                "steps" => [new("10", "steps"), new("11", "steps")],
                "cfg" => [new("10", "cfg"), new("11", "cfg")],
                "sampler" => [new("10", "sampler_name"), new("11", "sampler_name")],
                "scheduler" => [new("10", "scheduler"), new("11", "scheduler")],
                "refiner_start_step" => [new("10", "end_at_step"), new("11", "start_at_step")],
                "denoise" => [],
                _ => [new(input.Node, input.Input)],
            };
        }

        return targets;
    }

    /// <summary>Replaces the empty latent with LoadImage → VAEEncode feeding <paramref name="sampler"/>.</summary>
    private static void ToImageToImage(JsonObject graph, string sampler, string emptyLatent, JsonArray vae)
    {
        graph.Remove(emptyLatent);
        graph["20"] = Node("LoadImage", "Init Image", new JsonObject { ["image"] = "init.png" });
        graph["21"] = Node("VAEEncode", "VAE Encode", new JsonObject { ["pixels"] = Link("20", 0), ["vae"] = vae });
        graph[sampler]!["inputs"]!["latent_image"] = Link("21", 0);
    }

    private static Dictionary<string, IReadOnlyList<InputTarget>> SingleTargets(IEnumerable<WorkflowInput> inputs) =>
        inputs.ToDictionary(i => i.Name, i => (IReadOnlyList<InputTarget>)new List<InputTarget> { new(i.Node, i.Input) }, StringComparer.Ordinal);

    private static WorkflowInput Input(string name, string node, string input, string type, object? @default, string description, double? min = null, double? max = null, bool required = false) => new()
    {
        Name = name,
        Node = node,
        Input = input,
        Type = type,
        Default = @default is null ? null : JsonSerializer.SerializeToElement(@default),
        Description = description,
        Min = min,
        Max = max,
        Required = required,
    };

    private static WorkflowInput Enum(WorkflowInput input, IReadOnlyList<string> values)
    {
        input.Enum = [.. values];
        return input;
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonObject Node(string classType, string title, JsonObject inputs) => new()
    {
        ["class_type"] = classType,
        ["inputs"] = inputs,
        ["_meta"] = new JsonObject { ["title"] = title },
    };

    private static JsonArray Link(string node, int output) => [node, output];
}
