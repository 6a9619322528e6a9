using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Router.ComfyRouterApi;

/// <summary>
/// Builds the API-format graph for a Comfy Router <c>POST /workflow</c> body
/// (<c>{"type": "SD15"|"SDXL"|"Flux", "params": {...}}</c>) the way Comfy Router builds it: the
/// checkpoint (or Flux's UNet, VAE and dual CLIP), an optional VAE, the LoRA chain, the two prompts,
/// the ControlNet chain, then an empty latent, an img2img encode or an inpaint encode, the sampler,
/// the decode and a <c>SaveImage</c>. Only core ComfyUI node classes are used: images are resized
/// with <c>ImageScale</c> where Comfy Router uses the <c>HintImageEnchance</c> custom node. A model
/// or image given by URL stays a URL in the graph; the submission path downloads it into the input
/// cache (and refuses what the input rules refuse). A pure function: no I/O.
/// </summary>
internal static class ComfyRouterGraph
{
    public const string OutputPrefix = "comfy-router";

    public static JsonObject Build(JsonObject? body)
    {
        if (body is null)
        {
            throw new ComfyRouterPayloadException("The body must be a JSON object {\"type\": \"SD15\"|\"SDXL\"|\"Flux\", \"params\": {...}}.");
        }

        var type = StringOf(body["type"]);
        if (body["params"] is not JsonObject parameters)
        {
            throw new ComfyRouterPayloadException("'params' must be an object.");
        }

        var builder = new Builder(parameters);
        return type switch
        {
            "SD15" or "SDXL" => builder.Checkpoint(),
            "Flux" => builder.Flux(),
            _ => throw new ComfyRouterPayloadException($"'type' must be \"SD15\", \"SDXL\" or \"Flux\", not {(type is null ? "missing" : $"\"{type}\"")}."),
        };
    }

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private sealed class Builder(JsonObject p)
    {
        private readonly JsonObject _graph = [];
        private int _nextId;

        private JsonArray _model = null!;
        private JsonArray _clip = null!;
        private JsonArray _vae = null!;
        private JsonArray _positive = null!;
        private JsonArray _negative = null!;

        /// <summary>SD 1.5 and SDXL: one checkpoint with its CLIP and VAE (SDXL takes the same parameters here).</summary>
        public JsonObject Checkpoint()
        {
            var checkpoint = Add("CheckpointLoaderSimple", new JsonObject { ["ckpt_name"] = Model("checkpoint") });
            _model = Link(checkpoint, 0);
            _clip = Link(checkpoint, 1);
            _vae = Link(checkpoint, 2);
            if (p["vae"] is not null && p["vae"]!.GetValueKind() != JsonValueKind.Null)
            {
                _vae = Link(Add("VAELoader", new JsonObject { ["vae_name"] = Model("vae") }), 0);
            }

            Loras();
            Prompts();
            ControlNets("ControlNetApplyAdvanced");
            return Sample(cfg: Number("cfg_scale"), "EmptyLatentImage");
        }

        /// <summary>Flux: UNet, VAE and the T5-XXL + CLIP-L pair; the dev UNet takes cfg_scale as its guidance and the sampler runs at cfg 1.</summary>
        public JsonObject Flux()
        {
            var unetType = String("unet_type");
            if (unetType is not ("dev" or "schnell"))
            {
                throw new ComfyRouterPayloadException($"'params.unet_type' must be \"dev\" or \"schnell\", not \"{unetType}\".");
            }

            _model = Link(Add("UNETLoader", new JsonObject { ["unet_name"] = Model("unet"), ["weight_dtype"] = String("unet_dtype") }), 0);
            _vae = Link(Add("VAELoader", new JsonObject { ["vae_name"] = Model("vae") }), 0);
            _clip = Link(Add("DualCLIPLoader", new JsonObject { ["clip_name1"] = Model("t5xxl"), ["clip_name2"] = Model("clip"), ["type"] = "flux" }), 0);
            Loras();
            Prompts();
            if (unetType == "dev")
            {
                _positive = Link(Add("FluxGuidance", new JsonObject { ["conditioning"] = _positive, ["guidance"] = Number("cfg_scale") }), 0);
            }

            ControlNets("ControlNetApplySD3");
            return Sample(cfg: 1.0, "EmptySD3LatentImage");
        }

        private void Loras()
        {
            foreach (var (lora, at) in Items("loras"))
            {
                var weight = NumberIn(lora, "weight", at);
                var id = Add("LoraLoader", new JsonObject
                {
                    ["lora_name"] = ModelIn(lora, "model", at),
                    ["strength_model"] = weight,
                    ["strength_clip"] = weight,
                    ["model"] = _model,
                    ["clip"] = _clip,
                });
                _model = Link(id, 0);
                _clip = Link(id, 1);
            }
        }

        private void Prompts()
        {
            _positive = Link(Add("CLIPTextEncode", new JsonObject { ["text"] = String("prompt"), ["clip"] = _clip.DeepClone() }), 0);
            _negative = Link(Add("CLIPTextEncode", new JsonObject { ["text"] = String("negative_prompt"), ["clip"] = _clip.DeepClone() }), 0);
        }

        private void ControlNets(string applyClass)
        {
            foreach (var (controlnet, at) in Items("controlnets"))
            {
                var loader = Add("ControlNetLoader", new JsonObject { ["control_net_name"] = ModelIn(controlnet, "model", at) });
                var resizeMode = StringIn(controlnet, "resize_mode", at);
                var hint = Resized(ImageIn(controlnet, "image", at), crop: resizeMode == "Crop and Resize");
                if (controlnet["preprocessor"] is JsonValue && StringIn(controlnet, "preprocessor", at) is { Length: > 0 } preprocessor)
                {
                    var inputs = controlnet["preprocessor_params"] switch
                    {
                        JsonObject given => (JsonObject)given.DeepClone(),
                        null => [],
                        JsonValue v when v.GetValueKind() == JsonValueKind.Null => [],
                        _ => throw new ComfyRouterPayloadException($"'{at}.preprocessor_params' must be an object."),
                    };
                    inputs["image"] = hint;
                    hint = Link(Add(preprocessor, inputs), 0);
                }

                var apply = new JsonObject
                {
                    ["positive"] = _positive,
                    ["negative"] = _negative,
                    ["control_net"] = Link(loader, 0),
                    ["image"] = hint,
                    ["strength"] = NumberIn(controlnet, "weight", at),
                    ["start_percent"] = NumberIn(controlnet, "start_at", at),
                    ["end_percent"] = NumberIn(controlnet, "end_at", at),
                };
                if (applyClass == "ControlNetApplySD3")
                {
                    apply["vae"] = _vae.DeepClone();
                }

                var id = Add(applyClass, apply);
                _positive = Link(id, 0);
                _negative = Link(id, 1);
            }
        }

        /// <summary>The latent (empty, img2img or inpaint), the sampler, the decode and the saved image.</summary>
        private JsonObject Sample(double cfg, string emptyLatentClass)
        {
            JsonArray latent;
            double denoise;
            if (Image(p, "input_image", "params") is { } image)
            {
                var pixels = Resized(image, crop: true);
                if (Image(p, "input_mask", "params") is { } mask)
                {
                    // VAEEncodeForInpaint scales the mask to the pixels itself.
                    var loadMask = Add("LoadImageMask", new JsonObject { ["image"] = mask, ["channel"] = "red" });
                    latent = Link(Add("VAEEncodeForInpaint", new JsonObject { ["pixels"] = pixels, ["vae"] = _vae.DeepClone(), ["mask"] = Link(loadMask, 0), ["grow_mask_by"] = 6 }), 0);
                    denoise = 1.0;
                }
                else
                {
                    latent = Link(Add("VAEEncode", new JsonObject { ["pixels"] = pixels, ["vae"] = _vae.DeepClone() }), 0);
                    denoise = OptionalNumber("denoise") ?? 0.75;
                }
            }
            else
            {
                latent = Link(Add(emptyLatentClass, new JsonObject { ["width"] = Integer("width"), ["height"] = Integer("height"), ["batch_size"] = Integer("batch_size") }), 0);
                denoise = 1.0;
            }

            var seed = p["seed"] is JsonValue s && s.GetValueKind() != JsonValueKind.Null ? WholeNumber(s, "params.seed") : 0;
            var sampler = Add("KSampler", new JsonObject
            {
                ["seed"] = seed,
                ["steps"] = Integer("steps"),
                ["cfg"] = cfg,
                ["sampler_name"] = String("sampler"),
                ["scheduler"] = String("scheduler"),
                ["denoise"] = denoise,
                ["model"] = _model.DeepClone(),
                ["positive"] = _positive.DeepClone(),
                ["negative"] = _negative.DeepClone(),
                ["latent_image"] = latent,
            });
            var decode = Add("VAEDecode", new JsonObject { ["samples"] = Link(sampler, 0), ["vae"] = _vae.DeepClone() });
            Add("SaveImage", new JsonObject { ["filename_prefix"] = OutputPrefix, ["images"] = Link(decode, 0) });
            return _graph;
        }

        /// <summary>A loaded image scaled to the requested size (cropped to fill, or stretched).</summary>
        private JsonArray Resized(string image, bool crop)
        {
            var load = Add("LoadImage", new JsonObject { ["image"] = image });
            return Link(Add("ImageScale", new JsonObject
            {
                ["image"] = Link(load, 0),
                ["upscale_method"] = "lanczos",
                ["width"] = Integer("width"),
                ["height"] = Integer("height"),
                ["crop"] = crop ? "center" : "disabled",
            }), 0);
        }

        private string Add(string classType, JsonObject inputs)
        {
            var id = (++_nextId).ToString(CultureInfo.InvariantCulture);
            _graph[id] = new JsonObject { ["class_type"] = classType, ["inputs"] = inputs };
            return id;
        }

        private static JsonArray Link(string node, int output) => [node, output];

        private IEnumerable<(JsonObject Item, string At)> Items(string name)
        {
            switch (p[name])
            {
                case null:
                case JsonValue v when v.GetValueKind() == JsonValueKind.Null:
                    yield break;
                case JsonArray items:
                    for (var i = 0; i < items.Count; i++)
                    {
                        yield return (items[i] as JsonObject ?? throw new ComfyRouterPayloadException($"'params.{name}[{i}]' must be an object."), $"params.{name}[{i}]");
                    }

                    break;
                default:
                    throw new ComfyRouterPayloadException($"'params.{name}' must be a list.");
            }
        }

        private string Model(string name) => ModelIn(p, name, "params");

        /// <summary><c>{"type": "build_in", "name": file}</c> is a file in the workers' model folders; <c>{"type": "custom", "name": url}</c> is downloaded by the input cache.</summary>
        private static string ModelIn(JsonObject owner, string name, string at)
        {
            var field = $"{at}.{name}";
            if (owner[name] is not JsonObject model)
            {
                throw new ComfyRouterPayloadException($"'{field}' must be {{\"type\": \"build_in\"|\"custom\", \"name\": ...}}.");
            }

            var type = StringOf(model["type"]);
            var value = StringOf(model["name"]);
            if (type is not ("build_in" or "custom") || string.IsNullOrEmpty(value))
            {
                throw new ComfyRouterPayloadException($"'{field}' must be {{\"type\": \"build_in\"|\"custom\", \"name\": ...}} with a non-empty name.");
            }

            if (type == "custom" && !(Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
            {
                throw new ComfyRouterPayloadException($"'{field}.name' must be an http(s) URL for a custom model.");
            }

            return value;
        }

        private static string ImageIn(JsonObject owner, string name, string at) =>
            Image(owner, name, at) ?? throw new ComfyRouterPayloadException($"'{at}.{name}' must be {{\"type\": \"url\"|\"base64\", \"content\": ...}}.");

        /// <summary><c>{"type": "url", "content": url}</c>, or <c>{"type": "base64", "content": data}</c> (a PNG, passed on as a data: URI); null when absent.</summary>
        private static string? Image(JsonObject owner, string name, string at)
        {
            var node = owner[name];
            if (node is null || node.GetValueKind() == JsonValueKind.Null)
            {
                return null;
            }

            var type = StringOf(node["type"]);
            var content = StringOf(node["content"]);
            return (type, content) switch
            {
                ("url", { Length: > 0 }) => content,
                ("base64", { Length: > 0 }) => "data:image/png;base64," + content,
                _ => throw new ComfyRouterPayloadException($"'{at}.{name}' must be {{\"type\": \"url\"|\"base64\", \"content\": ...}}."),
            };
        }

        private string String(string name) => StringIn(p, name, "params");

        private static string StringIn(JsonObject owner, string name, string at) =>
            StringOf(owner[name]) ?? throw new ComfyRouterPayloadException($"'{at}.{name}' must be a string.");

        private double Number(string name) => NumberIn(p, name, "params");

        private double? OptionalNumber(string name) =>
            p[name] is null || p[name]!.GetValueKind() == JsonValueKind.Null ? null : Number(name);

        private static double NumberIn(JsonObject owner, string name, string at) =>
            owner[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number
                ? v.GetValue<double>()
                : throw new ComfyRouterPayloadException($"'{at}.{name}' must be a number.");

        private long Integer(string name) =>
            p[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && WholeNumber(v, $"params.{name}") is var n and >= 0 and <= uint.MaxValue
                ? n
                : throw new ComfyRouterPayloadException($"'params.{name}' must be a whole number from 0.");

        private static long WholeNumber(JsonValue value, string field) =>
            value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var n) && n >= 0
                ? n
                : throw new ComfyRouterPayloadException($"'{field}' must be a whole number from 0.");
    }
}
