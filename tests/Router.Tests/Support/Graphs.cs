using System.Text.Json.Nodes;

namespace ComfyOperator.Router.Tests.Support;

/// <summary>Reference graphs (docs/comfyui-protocol.md §8.1) for submissions.</summary>
public static class Graphs
{
    public static JsonObject Sd15(string text = "a lighthouse at dusk", int steps = 4, long seed = 42) => new()
    {
        ["4"] = Node("CheckpointLoaderSimple", new JsonObject { ["ckpt_name"] = "v1-5-pruned-emaonly.safetensors" }),
        ["5"] = Node("EmptyLatentImage", new JsonObject { ["width"] = 64, ["height"] = 64, ["batch_size"] = 1 }),
        ["6"] = Node("CLIPTextEncode", new JsonObject { ["text"] = text, ["clip"] = Link("4", 1) }),
        ["7"] = Node("CLIPTextEncode", new JsonObject { ["text"] = "blurry", ["clip"] = Link("4", 1) }),
        ["3"] = Node("KSampler", new JsonObject
        {
            ["seed"] = seed,
            ["steps"] = steps,
            ["cfg"] = 7.5,
            ["sampler_name"] = "euler",
            ["scheduler"] = "normal",
            ["denoise"] = 1.0,
            ["model"] = Link("4", 0),
            ["positive"] = Link("6", 0),
            ["negative"] = Link("7", 0),
            ["latent_image"] = Link("5", 0),
        }),
        ["8"] = Node("VAEDecode", new JsonObject { ["samples"] = Link("3", 0), ["vae"] = Link("4", 2) }),
        ["9"] = Node("SaveImage", new JsonObject { ["filename_prefix"] = "ComfyUI", ["images"] = Link("8", 0) }),
    };

    public static JsonObject Body(JsonNode workflow, string? idempotencyKey = null, int? priority = null)
    {
        var body = new JsonObject { ["workflow"] = workflow };
        if (idempotencyKey is not null)
        {
            body["idempotencyKey"] = idempotencyKey;
        }

        if (priority is not null)
        {
            body["priority"] = priority;
        }

        return body;
    }

    private static JsonObject Node(string classType, JsonObject inputs) => new() { ["class_type"] = classType, ["inputs"] = inputs };

    private static JsonArray Link(string node, int index) => new(node, index);
}
