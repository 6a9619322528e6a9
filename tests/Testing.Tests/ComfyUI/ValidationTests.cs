using System.Net;
using System.Text.Json.Nodes;

namespace ComfyOperator.Testing.Tests.ComfyUI;

/// <summary>POST /prompt 400 shapes and error.type strings of docs/comfyui-protocol.md §2.4.</summary>
public sealed class ValidationTests(SimulatorFixture fixture) : IClassFixture<SimulatorFixture>
{
    private readonly HttpClient _http = fixture.Http;

    private async Task<JsonObject> RejectAsync(JsonObject prompt, JsonObject? extra = null)
    {
        var body = new JsonObject { ["prompt"] = prompt };
        foreach (var (k, v) in extra ?? [])
        {
            body[k] = v?.DeepClone();
        }

        var (status, json) = await _http.PostPromptAsync(body);
        Assert.True(status == HttpStatusCode.BadRequest, json.Canon());
        Assert.Equal(["error", "node_errors"], json.Select(p => p.Key));
        Assert.Equal(["type", "message", "details", "extra_info"], json["error"]!.AsObject().Select(p => p.Key));
        return json;
    }

    private static JsonObject Only(JsonObject rejection, string nodeId)
    {
        var node = rejection["node_errors"]![nodeId]!.AsObject();
        Assert.Equal(["errors", "dependent_outputs", "class_type"], node.Select(p => p.Key));
        return node;
    }

    [Fact]
    public async Task PostPrompt_NoPrompt_NoPromptError()
    {
        var (status, text) = await _http.PostRawAsync("prompt", """{"client_id": "x"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("""{"error":{"type":"no_prompt","message":"No prompt provided","details":"No prompt provided","extra_info":{}},"node_errors":{}}""", text);
    }

    [Fact]
    public async Task PostPrompt_MissingClassType_InvalidPrompt()
    {
        var prompt = Graphs.Sd15();
        prompt["7"]!.AsObject().Remove("class_type");
        var json = await RejectAsync(prompt);
        Assert.Equal("""{"type":"invalid_prompt","message":"Cannot execute because a node is missing the class_type property.","details":"Node ID '#7'","extra_info":{}}""", json["error"]!.Canon());
        Assert.Empty(json["node_errors"]!.AsObject());
    }

    [Fact]
    public async Task PostPrompt_UnknownClassType_InvalidPrompt()
    {
        var prompt = Graphs.Sd15();
        prompt["8"]!["class_type"] = "VAEDecodeTiledMagic";
        var json = await RejectAsync(prompt);
        Assert.Equal("invalid_prompt", json["error"]!["type"]!.GetValue<string>());
        Assert.Equal("Cannot execute because node VAEDecodeTiledMagic does not exist.", json["error"]!["message"]!.GetValue<string>());
        Assert.Equal("Node ID '#8'", json["error"]!["details"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostPrompt_UiWorkflowWithStringId_InvalidPromptNodeIdHashId()
    {
        var ui = JsonNode.Parse("""{"id": "0b6e3c1e-0000-4000-8000-000000000000", "revision": 0, "last_node_id": 9, "nodes": [], "links": [], "version": 0.4}""")!.AsObject();
        var json = await RejectAsync(ui);
        Assert.Equal("Node ID '#id'", json["error"]!["details"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostPrompt_UiWorkflowWithNumberFirst_500PlainText()
    {
        var (status, text) = await _http.PostRawAsync("prompt", """{"prompt": {"last_node_id": 9, "nodes": []}}""");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.StartsWith("500 Internal Server Error", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostPrompt_NoOutputNode_PromptNoOutputs()
    {
        var prompt = Graphs.Sd15();
        prompt.Remove("9");
        var json = await RejectAsync(prompt);
        Assert.Equal("""{"type":"prompt_no_outputs","message":"Prompt has no outputs","details":"","extra_info":{}}""", json["error"]!.Canon());
    }

    [Fact]
    public async Task PostPrompt_PartialTargetsWithoutOutputs_PromptNoOutputs()
    {
        var json = await RejectAsync(Graphs.Sd15(), new JsonObject { ["partial_execution_targets"] = new JsonArray("3") });
        Assert.Equal("prompt_no_outputs", json["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostPrompt_MissingCheckpoint_ValueNotInListWithDocShape()
    {
        var json = await RejectAsync(Graphs.Sd15(ckpt: "missing.safetensors"));
        Assert.Equal("prompt_outputs_failed_validation", json["error"]!["type"]!.GetValue<string>());
        Assert.Equal("Prompt outputs failed validation", json["error"]!["message"]!.GetValue<string>());
        var node = Only(json, "4");
        Assert.Equal("""["9"]""", node["dependent_outputs"]!.Canon());
        Assert.Equal("CheckpointLoaderSimple", node["class_type"]!.GetValue<string>());
        var error = node["errors"]![0]!.AsObject();
        Assert.Equal("value_not_in_list", error["type"]!.GetValue<string>());
        Assert.Equal("Value not in list", error["message"]!.GetValue<string>());
        Assert.Equal("ckpt_name: 'missing.safetensors' not in ['sd_xl_base_1.0.safetensors', 'sd_xl_refiner_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors']",
            error["details"]!.GetValue<string>());
        Assert.Equal(["input_name", "input_config", "received_value"], error["extra_info"]!.AsObject().Select(p => p.Key));
        Assert.Equal("""[["sd_xl_base_1.0.safetensors","sd_xl_refiner_1.0.safetensors","v1-5-pruned-emaonly.safetensors"],{"tooltip":"The name of the checkpoint (model) to load."}]""",
            error["extra_info"]!["input_config"]!.Canon());
        Assert.Equal("missing.safetensors", error["extra_info"]!["received_value"]!.GetValue<string>());
        // Nodes that are only invalid through an upstream node are not listed.
        Assert.Equal(["4"], json["node_errors"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task PostPrompt_MoreThanTwentyChoices_ListOfLengthAndNullConfig()
    {
        var prompt = Graphs.Sd15();
        prompt["3"]!["inputs"]!["sampler_name"] = "warp_drive";
        var json = await RejectAsync(prompt);
        var error = Only(json, "3")["errors"]![0]!;
        Assert.Equal("sampler_name: 'warp_drive' not in (list of length 42)", error["details"]!.GetValue<string>());
        Assert.Null(error["extra_info"]!["input_config"]);
        Assert.True(error["extra_info"]!.AsObject().ContainsKey("input_config"));
    }

    [Fact]
    public async Task PostPrompt_MissingRequiredInput_RequiredInputMissing()
    {
        var prompt = Graphs.Sd15();
        prompt["3"]!["inputs"]!.AsObject().Remove("steps");
        var error = Only(await RejectAsync(prompt), "3")["errors"]![0]!;
        Assert.Equal("""{"type":"required_input_missing","message":"Required input is missing","details":"steps","extra_info":{"input_name":"steps"}}""", error.Canon());
    }

    [Fact]
    public async Task PostPrompt_WrongLinkType_ReturnTypeMismatch()
    {
        var prompt = Graphs.Sd15();
        prompt["3"]!["inputs"]!["model"] = new JsonArray("4", 1);
        var error = Only(await RejectAsync(prompt), "3")["errors"]![0]!;
        Assert.Equal("return_type_mismatch", error["type"]!.GetValue<string>());
        Assert.Equal("model, received_type(CLIP) mismatch input_type(MODEL)", error["details"]!.GetValue<string>());
        Assert.Equal(["input_name", "input_config", "received_type", "linked_node"], error["extra_info"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task PostPrompt_ThreeElementLink_BadLinkedInput()
    {
        var prompt = Graphs.Sd15();
        prompt["8"]!["inputs"]!["vae"] = new JsonArray("4", 2, 0);
        var error = Only(await RejectAsync(prompt), "8")["errors"]![0]!;
        Assert.Equal("bad_linked_input", error["type"]!.GetValue<string>());
        Assert.Equal(["input_name", "input_config", "received_value"], error["extra_info"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task PostPrompt_UnconvertibleInt_InvalidInputType()
    {
        var prompt = Graphs.Sd15();
        prompt["3"]!["inputs"]!["steps"] = "many";
        var error = Only(await RejectAsync(prompt), "3")["errors"]![0]!;
        Assert.Equal("invalid_input_type", error["type"]!.GetValue<string>());
        Assert.Equal("Failed to convert an input value to a INT value", error["message"]!.GetValue<string>());
        Assert.Equal("steps, many, invalid literal for int() with base 10: 'many'", error["details"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostPrompt_OutOfRange_SmallerThanMinAndBiggerThanMax()
    {
        var prompt = Graphs.Sd15();
        prompt["5"]!["inputs"]!["width"] = 8;
        prompt["3"]!["inputs"]!["cfg"] = 500.5;
        var json = await RejectAsync(prompt);
        var min = Only(json, "5")["errors"]![0]!;
        Assert.Equal("value_smaller_than_min", min["type"]!.GetValue<string>());
        Assert.Equal("Value 8 smaller than min of 16", min["message"]!.GetValue<string>());
        Assert.Equal("width", min["details"]!.GetValue<string>());
        var max = Only(json, "3")["errors"]![0]!;
        Assert.Equal("value_bigger_than_max", max["type"]!.GetValue<string>());
        Assert.Equal("Value 500.5 bigger than max of 100.0", max["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostPrompt_LoadImageMissingFile_CustomValidationFailed()
    {
        var prompt = JsonNode.Parse("""
            {"1": {"class_type": "LoadImage", "inputs": {"image": "nope.png"}},
             "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}
            """)!.AsObject();
        var error = Only(await RejectAsync(prompt), "1")["errors"]![0]!;
        Assert.Equal("""{"type":"custom_validation_failed","message":"Custom validation failed for node","details":"image - Invalid image file: nope.png","extra_info":{"input_name":"image"}}""", error.Canon());
    }

    [Fact]
    public async Task PostPrompt_OutputLinksToMissingNode_ExceptionDuringValidation()
    {
        var prompt = Graphs.Sd15();
        prompt["9"]!["inputs"]!["images"] = new JsonArray("99", 0);
        var json = await RejectAsync(prompt);
        var error = Only(json, "9")["errors"]![0]!;
        Assert.Equal("exception_during_validation", error["type"]!.GetValue<string>());
        Assert.Equal("'99'", error["details"]!.GetValue<string>());
        Assert.Equal("KeyError", error["extra_info"]!["exception_type"]!.GetValue<string>());
        Assert.Equal("Exception when validating node: '99'", json["error"]!["details"]!.GetValue<string>());
    }

    [Fact]
    public async Task PostPrompt_InnerNodeLinksToMissingNode_ExceptionDuringInnerValidation()
    {
        var prompt = Graphs.Sd15();
        prompt["8"]!["inputs"]!["samples"] = new JsonArray("42", 0);
        var error = Only(await RejectAsync(prompt), "8")["errors"]![0]!;
        Assert.Equal("exception_during_inner_validation", error["type"]!.GetValue<string>());
        Assert.Equal(["input_name", "input_config", "exception_message", "exception_type", "traceback", "linked_node"], error["extra_info"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task PostPrompt_OneOfTwoOutputsInvalid_200WithNodeErrors()
    {
        var prompt = Graphs.Sd15();
        prompt["10"] = JsonNode.Parse("""{"class_type": "SaveImage", "inputs": {"images": ["8", 0]}}""");
        var (status, json) = await _http.PostPromptAsync(new JsonObject { ["prompt"] = prompt });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["prompt_id", "number", "node_errors"], json.Select(p => p.Key));
        Assert.Equal("""["10"]""", json["node_errors"]!["10"]!["dependent_outputs"]!.Canon());
        var entry = await _http.WaitForHistoryAsync(json["prompt_id"]!.GetValue<string>());
        Assert.Equal("""["9"]""", entry["prompt"]![4]!.Canon());
    }

    [Fact]
    public async Task PostPrompt_StringNumbers_ConvertedInQueuedPrompt()
    {
        var prompt = Graphs.Sd15();
        prompt["3"]!["inputs"]!["steps"] = "2";
        prompt["3"]!["inputs"]!["cfg"] = 7;
        var id = await _http.QueueAsync(prompt, null);
        var entry = await _http.WaitForHistoryAsync(id);
        Assert.Equal("2", entry["prompt"]![2]!["3"]!["inputs"]!["steps"]!.Canon());
        Assert.Equal("7.0", entry["prompt"]![2]!["3"]!["inputs"]!["cfg"]!.Canon());
    }
}
