using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// The SD1.5 reference graph (docs/comfyui-protocol.md §8.1), padded in the prompt text to about 1 KB of
/// JSON, or to <c>COMFY_BENCH_GRAPH_BYTES</c> (e.g. 30000, what real SDXL and Flux workflows weigh). The
/// padding is words drawn from the seed, so it compresses about as prompt text does, not to nothing.
/// </summary>
internal static class BenchGraph
{
    private static readonly string[] Words = ["lighthouse", "dusk", "cinematic", "volumetric", "fog", "golden", "hour", "detailed", "8k", "oil", "painting", "harbour", "waves", "storm", "sky", "reflections"];

    /// <summary>The graph size the benches use unless told otherwise.</summary>
    public static int Bytes { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("COMFY_BENCH_GRAPH_BYTES"), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0 ? bytes : 1024;

    public static JsonObject Sd15(int seed, int steps = 1, int? targetBytes = null)
    {
        var graph = Build(seed, steps, "");
        var padding = Math.Max(0, (targetBytes ?? Bytes) - graph.ToJsonString().Length);
        return Build(seed, steps, Padding(seed, padding));
    }

    private static string Padding(int seed, int length)
    {
        var random = new Random(seed);
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            text.Append(Words[random.Next(Words.Length)]).Append(' ');
        }

        return text.ToString(0, length);
    }

    private static JsonObject Build(int seed, int steps, string padding) => new()
    {
        ["4"] = Node("CheckpointLoaderSimple", new JsonObject { ["ckpt_name"] = "v1-5-pruned-emaonly.safetensors" }),
        ["5"] = Node("EmptyLatentImage", new JsonObject { ["width"] = 64, ["height"] = 64, ["batch_size"] = 1 }),
        ["6"] = Node("CLIPTextEncode", new JsonObject { ["text"] = "a lighthouse at dusk " + padding, ["clip"] = new JsonArray("4", 1) }),
        ["7"] = Node("CLIPTextEncode", new JsonObject { ["text"] = "blurry", ["clip"] = new JsonArray("4", 1) }),
        ["3"] = Node("KSampler", new JsonObject
        {
            ["seed"] = seed,
            ["steps"] = steps,
            ["cfg"] = 7.5,
            ["sampler_name"] = "euler",
            ["scheduler"] = "normal",
            ["denoise"] = 1.0,
            ["model"] = new JsonArray("4", 0),
            ["positive"] = new JsonArray("6", 0),
            ["negative"] = new JsonArray("7", 0),
            ["latent_image"] = new JsonArray("5", 0),
        }),
        ["8"] = Node("VAEDecode", new JsonObject { ["samples"] = new JsonArray("3", 0), ["vae"] = new JsonArray("4", 2) }),
        ["9"] = Node("SaveImage", new JsonObject { ["filename_prefix"] = "bench", ["images"] = new JsonArray("8", 0) }),
    };

    private static JsonObject Node(string classType, JsonObject inputs) => new() { ["class_type"] = classType, ["inputs"] = inputs };
}
