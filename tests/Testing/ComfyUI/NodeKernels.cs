using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.ComfyUI;

/// <summary>What each simulated node does. Values are hashes of their inputs, so outputs are deterministic.</summary>
internal static class NodeKernels
{
    public static async Task<NodeResult> RunAsync(string classType, IReadOnlyDictionary<string, object?> inputs, NodeRunContext ctx, CancellationToken cancellationToken)
    {
        switch (classType)
        {
            case "CheckpointLoaderSimple":
                {
                    var name = Str(inputs, "ckpt_name");
                    await ctx.LoadModelAsync(name, cancellationToken).ConfigureAwait(false);
                    var h = StableHash.Of("ckpt:" + name);
                    return Out(new SimValue("MODEL", h), new SimValue("CLIP", StableHash.Combine(h, 1)), new SimValue("VAE", StableHash.Combine(h, 2)));
                }

            case "UNETLoader":
                {
                    var name = Str(inputs, "unet_name");
                    await ctx.LoadModelAsync(name, cancellationToken).ConfigureAwait(false);
                    return Out(new SimValue("MODEL", StableHash.Of("unet:" + name + ":" + Str(inputs, "weight_dtype"))));
                }

            case "VAELoader":
                return Out(new SimValue("VAE", StableHash.Of("vae:" + Str(inputs, "vae_name"))));
            case "DualCLIPLoader":
                return Out(new SimValue("CLIP", StableHash.Of($"clip:{Str(inputs, "clip_name1")}:{Str(inputs, "clip_name2")}:{Str(inputs, "type")}")));
            case "CLIPTextEncode":
                return Out(new SimValue("CONDITIONING", StableHash.Combine(Val(inputs, "clip").Hash, StableHash.Of(Str(inputs, "text")))));
            case "CLIPTextEncodeFlux":
                return Out(new SimValue("CONDITIONING", StableHash.Combine(Val(inputs, "clip").Hash,
                    StableHash.Of(Str(inputs, "clip_l") + "\u0001" + Str(inputs, "t5xxl") + "\u0001" + Num(inputs, "guidance").ToString("R", CultureInfo.InvariantCulture)))));
            case "FluxGuidance":
                return Out(new SimValue("CONDITIONING", StableHash.Combine(Val(inputs, "conditioning").Hash, StableHash.Of("guidance:" + Num(inputs, "guidance").ToString("R", CultureInfo.InvariantCulture)))));
            case "ConditioningZeroOut":
                return Out(new SimValue("CONDITIONING", StableHash.Combine(Val(inputs, "conditioning").Hash, 0)));
            case "LoraLoader":
                {
                    var lora = StableHash.Of($"lora:{Str(inputs, "lora_name")}:{Num(inputs, "strength_model")}:{Num(inputs, "strength_clip")}");
                    return Out(new SimValue("MODEL", StableHash.Combine(Val(inputs, "model").Hash, lora)), new SimValue("CLIP", StableHash.Combine(Val(inputs, "clip").Hash, lora)));
                }

            case "EmptyLatentImage":
            case "EmptySD3LatentImage":
                {
                    var (w, h, b) = (Int(inputs, "width"), Int(inputs, "height"), Int(inputs, "batch_size"));
                    return Out(new SimValue("LATENT", StableHash.Of($"latent:{w}x{h}x{b}"), w, h, b));
                }

            case "VAEEncode":
                {
                    var images = Images(inputs, "pixels");
                    var first = images.Count > 0 ? images[0] : new SimImage(8, 8, 3, new byte[8 * 8 * 3]);
                    var hash = StableHash.Combine(Val(inputs, "vae").Hash, StableHash.Of(Convert.ToHexString(SHA256.HashData(first.Pixels))));
                    return Out(new SimValue("LATENT", hash, first.Width, first.Height, Math.Max(1, images.Count)));
                }

            case "KSampler":
            case "KSamplerAdvanced":
                return await SampleAsync(classType, inputs, ctx, cancellationToken).ConfigureAwait(false);
            case "VAEDecode":
                {
                    var latent = Val(inputs, "samples");
                    var vae = Val(inputs, "vae");
                    var images = new List<SimImage>();
                    for (var i = 0; i < latent.Batch; i++)
                    {
                        images.Add(ImageSynth.Render(StableHash.Combine(latent.Hash, vae.Hash, (ulong)i), latent.Width, latent.Height));
                    }

                    return Out(images);
                }

            case "SaveImage":
                return Out(ui: SaveImages(Images(inputs, "images"), Str(inputs, "filename_prefix"), ctx, temp: false));
            case "PreviewImage":
                return Out(ui: SaveImages(Images(inputs, "images"), "ComfyUI", ctx, temp: true));
            case "SaveImageWebsocket":
                {
                    var images = Images(inputs, "images");
                    for (var i = 0; i < images.Count; i++)
                    {
                        await ctx.ProgressAsync(i, images.Count, PngFile.Encode(images[i], null, CompressionLevel.Fastest), cancellationToken).ConfigureAwait(false);
                    }

                    return Out(ui: null);
                }

            case "LoadImage":
                return LoadImage(Str(inputs, "image"), ctx);
            case "ImageScale":
                return Out(Images(inputs, "image")
                    .Select(i => ImageSynth.Scale(i, Int(inputs, "width"), Int(inputs, "height"), Str(inputs, "upscale_method"), Str(inputs, "crop") == "center"))
                    .ToList());
            case "ImageInvert":
                return Out(Images(inputs, "image").Select(ImageSynth.Invert).ToList());
            case "EmptyImage":
                {
                    var image = ImageSynth.Solid(Int(inputs, "width"), Int(inputs, "height"), Int(inputs, "color"));
                    return Out(Enumerable.Repeat(image, Int(inputs, "batch_size")).ToList());
                }

            default:
                throw new PythonException("KeyError", PythonText.Repr(classType));
        }
    }

    private static async Task<NodeResult> SampleAsync(string classType, IReadOnlyDictionary<string, object?> inputs, NodeRunContext ctx, CancellationToken cancellationToken)
    {
        var advanced = classType == "KSamplerAdvanced";
        var steps = Int(inputs, "steps");
        var seed = advanced ? inputs["noise_seed"] : inputs["seed"];
        var run = steps;
        if (advanced)
        {
            var start = Int(inputs, "start_at_step");
            var end = Math.Min(Int(inputs, "end_at_step"), steps);
            run = Math.Max(0, end - start);
        }

        var latent = Val(inputs, "latent_image");
        var hash = StableHash.Of(string.Join("|",
            classType, Val(inputs, "model").Hash, Convert.ToString(seed, CultureInfo.InvariantCulture), steps, Num(inputs, "cfg").ToString("R", CultureInfo.InvariantCulture),
            Str(inputs, "sampler_name"), Str(inputs, "scheduler"), Val(inputs, "positive").Hash, Val(inputs, "negative").Hash, latent.Hash,
            advanced ? $"{Str(inputs, "add_noise")}:{Int(inputs, "start_at_step")}:{Int(inputs, "end_at_step")}" : Num(inputs, "denoise").ToString("R", CultureInfo.InvariantCulture)));
        for (var step = 1; step <= run; step++)
        {
            await ctx.StepDelayAsync(cancellationToken).ConfigureAwait(false);
            byte[]? preview = null;
            if (ctx.PreviewsEnabled)
            {
                var side = Math.Max(8, Math.Min(64, latent.Width / 8));
                preview = PngFile.Encode(ImageSynth.Render(StableHash.Combine(hash, (ulong)step), side, side));
            }

            await ctx.ProgressAsync(step, run, preview, cancellationToken).ConfigureAwait(false);
        }

        return Out(latent with { Hash = hash });
    }

    private static NodeResult LoadImage(string name, NodeRunContext ctx)
    {
        var relative = name.EndsWith(" [input]", StringComparison.Ordinal) ? name[..^8] : name;
        var path = Path.Combine(ctx.InputDirectory, relative);
        var image = PngFile.TryDecode(File.ReadAllBytes(path))
            ?? throw new PythonException("PIL.UnidentifiedImageError", $"cannot identify image file '{path}'");
        var mask = new SimValue("MASK", StableHash.Of(Convert.ToHexString(SHA256.HashData(image.Pixels))), image.Width, image.Height);
        return new NodeResult([new List<SimImage> { image.ToRgb() }, mask], null);
    }

    private static JsonObject SaveImages(IReadOnlyList<SimImage> images, string prefix, NodeRunContext ctx, bool temp)
    {
        var folder = temp ? ctx.TempDirectory : ctx.OutputDirectory;
        if (temp)
        {
            const string letters = "abcdefghijklmnopqrstupvxyz";
            prefix += "_temp_" + string.Concat(Enumerable.Range(0, 5).Select(_ => letters[RandomNumberGenerator.GetInt32(letters.Length)]));
        }

        var first = images.Count > 0 ? images[0] : new SimImage(0, 0, 3, []);
        var (fullFolder, fileName, counter, subfolder) = SaveImagePath.Resolve(prefix, folder, first.Width, first.Height, ctx.Options.TimeProvider.GetLocalNow());
        var text = new List<KeyValuePair<string, string>>();
        if (!ctx.Options.DisableMetadata)
        {
            text.Add(new("prompt", ctx.Prompt.ToJsonString()));
            if (ctx.ExtraData["extra_pnginfo"] is JsonObject pngInfo)
            {
                foreach (var (key, value) in pngInfo)
                {
                    text.Add(new(key, value?.ToJsonString() ?? "null"));
                }
            }
        }

        var results = new JsonArray();
        for (var batch = 0; batch < images.Count; batch++)
        {
            var file = $"{fileName.Replace("%batch_num%", batch.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)}_{counter:00000}_.png";
            File.WriteAllBytes(Path.Combine(fullFolder, file), PngFile.Encode(images[batch], text, temp ? CompressionLevel.Fastest : CompressionLevel.Optimal));
            results.Add(new JsonObject { ["filename"] = file, ["subfolder"] = subfolder, ["type"] = temp ? "temp" : "output" });
            counter++;
        }

        return new JsonObject { ["images"] = results };
    }

    private static NodeResult Out(params object?[] outputs) => new(outputs, null);

    private static NodeResult Out(JsonObject? ui) => new([], ui);

    private static string Str(IReadOnlyDictionary<string, object?> inputs, string name) => inputs.GetValueOrDefault(name) switch
    {
        string s => s,
        JsonNode n => PythonText.Str(n),
        null => "",
        var o => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "",
    };

    private static int Int(IReadOnlyDictionary<string, object?> inputs, string name) => inputs.GetValueOrDefault(name) switch
    {
        decimal d => (int)Math.Clamp(d, int.MinValue, int.MaxValue),
        double d => (int)d,
        int i => i,
        long l => (int)l,
        _ => 0,
    };

    private static double Num(IReadOnlyDictionary<string, object?> inputs, string name) => inputs.GetValueOrDefault(name) switch
    {
        double d => d,
        decimal d => (double)d,
        int i => i,
        _ => 0,
    };

    private static SimValue Val(IReadOnlyDictionary<string, object?> inputs, string name) =>
        inputs.GetValueOrDefault(name) as SimValue ?? throw new PythonException("AttributeError", $"'{name}' is not a simulated value");

    private static IReadOnlyList<SimImage> Images(IReadOnlyDictionary<string, object?> inputs, string name) =>
        inputs.GetValueOrDefault(name) as IReadOnlyList<SimImage> ?? throw new PythonException("AttributeError", $"'{name}' is not an image batch");

    /// <summary>A validated JSON literal as the kernels see it: INT decimal, FLOAT double, others string/bool.</summary>
    public static object? Literal(InputSpec spec, JsonNode? node) => spec.Type switch
    {
        "INT" when node is JsonValue v => decimal.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
        "FLOAT" when node is JsonValue v => v.GetValue<double>(),
        "BOOLEAN" when node is JsonValue v => v.GetValueKind() == JsonValueKind.True,
        _ => node is null ? null : PythonText.Str(node),
    };
}
