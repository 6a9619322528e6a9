using System.Text.Json.Nodes;
using ComfyOperator.Router.Workflows;

namespace ComfyOperator.Router.Tests.Workflows;

public sealed class WorkflowInputBinderTests
{
    private static readonly WorkflowDefinition Sd15 = BuiltInWorkflows.Find("sd15")!;

    private static Dictionary<string, JsonNode?> Values(string json) =>
        JsonNode.Parse(json)!.AsObject().ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal);

    [Fact]
    public void Bind_TypedValues_WritesThemIntoACopyOfTheGraph()
    {
        var bound = WorkflowInputBinder.Bind(Sd15, Values("""{"prompt": "a red fox", "seed": 7, "steps": 12, "cfg": 6.5, "sampler": "dpmpp_2m", "width": 640, "checkpoint": "other.safetensors"}"""), out var error);

        Assert.Null(error);
        Assert.Equal("a red fox", bound.Graph["6"]!["inputs"]!["text"]!.GetValue<string>());
        Assert.Equal(7, bound.Graph["3"]!["inputs"]!["seed"]!.GetValue<long>());
        Assert.Equal(12, bound.Graph["3"]!["inputs"]!["steps"]!.GetValue<long>());
        Assert.Equal(6.5, bound.Graph["3"]!["inputs"]!["cfg"]!.GetValue<double>());
        Assert.Equal("dpmpp_2m", bound.Graph["3"]!["inputs"]!["sampler_name"]!.GetValue<string>());
        Assert.Equal(640, bound.Graph["5"]!["inputs"]!["width"]!.GetValue<long>());
        Assert.Equal("other.safetensors", bound.Graph["4"]!["inputs"]!["ckpt_name"]!.GetValue<string>());
        // Defaults fill what was not sent; the links stay.
        Assert.Equal("", bound.Graph["7"]!["inputs"]!["text"]!.GetValue<string>());
        Assert.Equal("4", bound.Graph["6"]!["inputs"]!["clip"]![0]!.GetValue<string>());

        // The definition's own graph is untouched.
        var again = WorkflowInputBinder.Bind(Sd15, Values("""{"prompt": "x"}"""), out _);
        Assert.Equal(20, again.Graph["3"]!["inputs"]!["steps"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("""{"prompt": "x", "colour": "red"}""", "colour", InputRules.Unknown, "'colour' is not an input of workflow 'sd15'")]
    [InlineData("""{"steps": 4}""", "prompt", InputRules.Required, "'prompt' is required")]
    [InlineData("""{"prompt": 5}""", "prompt", InputRules.Type, "'prompt' must be a string")]
    [InlineData("""{"prompt": "x", "steps": "many"}""", "steps", InputRules.Type, "'steps' must be a whole number (integer), not \"many\"")]
    [InlineData("""{"prompt": "x", "steps": 2.5}""", "steps", InputRules.Type, "'steps' must be a whole number (integer), not 2.5")]
    [InlineData("""{"prompt": "x", "cfg": "high"}""", "cfg", InputRules.Type, "'cfg' must be a number (number)")]
    [InlineData("""{"prompt": "x", "steps": 0}""", "steps", InputRules.Min, "'steps' must be at least 1, not 0")]
    [InlineData("""{"prompt": "x", "denoise": 1.5}""", "denoise", InputRules.Max, "'denoise' must be at most 1, not 1.5")]
    [InlineData("""{"prompt": "x", "sampler": "warp_drive"}""", "sampler", InputRules.Enum, "'sampler' must be one of euler,")]
    [InlineData("""{"prompt": "x", "init_image": 3}""", "init_image", InputRules.Type, "'init_image' must be a string")]
    [InlineData("""{"prompt": "x", "init_image": "/etc/passwd"}""", "init_image", InputRules.Format, "'init_image' must be an http(s) URL, a data: URI or an uploaded file, not '/etc/passwd'")]
    public void Bind_BrokenRule_NamesInputAndRule(string body, string input, string rule, string message)
    {
        WorkflowInputBinder.Bind(Sd15, Values(body), out var error);

        Assert.NotNull(error);
        Assert.Equal(input, error.Input);
        Assert.Equal(rule, error.Rule);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_BooleanInputGivenText_IsTypeError()
    {
        var workflow = Sd15 with
        {
            Inputs = [.. Sd15.Inputs, new Entities.WorkflowInput { Name = "tiled", Node = "8", Input = "tiled", Type = "boolean" }],
        };

        WorkflowInputBinder.Bind(workflow, Values("""{"prompt": "x", "tiled": "yes"}"""), out var error);

        Assert.Equal(("tiled", InputRules.Type), (error!.Input, error.Rule));
        Assert.Contains("true or false", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_InitImage_SwitchesToImageToImageWithTheReferenceAsValue()
    {
        var bound = WorkflowInputBinder.Bind(Sd15, Values("""{"prompt": "x", "init_image": "https://example.com/a.png", "denoise": 0.6}"""), out var error);

        Assert.Null(error);
        Assert.Null(bound.Graph["5"]);
        Assert.Equal("LoadImage", bound.Graph["20"]!["class_type"]!.GetValue<string>());
        Assert.Equal("https://example.com/a.png", bound.Graph["20"]!["inputs"]!["image"]!.GetValue<string>());
        Assert.Equal("VAEEncode", bound.Graph["21"]!["class_type"]!.GetValue<string>());
        Assert.Equal("21", bound.Graph["3"]!["inputs"]!["latent_image"]![0]!.GetValue<string>());
        Assert.Equal(0.6, bound.Graph["3"]!["inputs"]!["denoise"]!.GetValue<double>());
    }

    [Fact]
    public void Bind_SdxlRefinerCheckpoint_UsesBaseAndRefinerSamplers()
    {
        var sdxl = BuiltInWorkflows.Find("sdxl")!;
        var bound = WorkflowInputBinder.Bind(sdxl, Values("""{"prompt": "a fox", "refiner_checkpoint": "sd_xl_refiner_1.0.safetensors", "steps": 30, "refiner_start_step": 24, "seed": 9}"""), out var error);

        Assert.Null(error);
        Assert.Null(bound.Graph["3"]);
        Assert.Equal("KSamplerAdvanced", bound.Graph["10"]!["class_type"]!.GetValue<string>());
        Assert.Equal(24, bound.Graph["10"]!["inputs"]!["end_at_step"]!.GetValue<long>());
        Assert.Equal(24, bound.Graph["11"]!["inputs"]!["start_at_step"]!.GetValue<long>());
        Assert.Equal(30, bound.Graph["11"]!["inputs"]!["steps"]!.GetValue<long>());
        Assert.Equal(9, bound.Graph["11"]!["inputs"]!["noise_seed"]!.GetValue<long>());
        Assert.Equal("a fox", bound.Graph["15"]!["inputs"]!["text"]!.GetValue<string>());
        Assert.Equal("sd_xl_refiner_1.0.safetensors", bound.Graph["12"]!["inputs"]!["ckpt_name"]!.GetValue<string>());
        Assert.Equal("11", bound.Graph["8"]!["inputs"]!["samples"]![0]!.GetValue<string>());
    }

    [Fact]
    public void Bind_Flux_PromptGoesToBothEncoders()
    {
        var flux = BuiltInWorkflows.Find("flux")!;
        var bound = WorkflowInputBinder.Bind(flux, Values("""{"prompt": "a robot", "guidance": 2.5}"""), out var error);

        Assert.Null(error);
        Assert.Equal("a robot", bound.Graph["6"]!["inputs"]!["clip_l"]!.GetValue<string>());
        Assert.Equal("a robot", bound.Graph["6"]!["inputs"]!["t5xxl"]!.GetValue<string>());
        Assert.Equal(2.5, bound.Graph["6"]!["inputs"]!["guidance"]!.GetValue<double>());
    }

    [Fact]
    public void LimitOutputs_DropsOutputNodesNotListed()
    {
        var graph = JsonNode.Parse(Comfy.Workflows.ReferenceGraphs.Sd15)!.AsObject();
        graph["10"] = new JsonObject { ["class_type"] = "PreviewImage", ["inputs"] = new JsonObject { ["images"] = new JsonArray("8", 0) } };

        WorkflowInputBinder.LimitOutputs(graph, [new Entities.WorkflowOutput { Name = "images", Node = "9" }]);

        Assert.Null(graph["10"]);
        Assert.NotNull(graph["9"]);
        Assert.NotNull(graph["8"]);
    }
}
