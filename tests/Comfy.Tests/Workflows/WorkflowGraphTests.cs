using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Tests.Fixtures;
using ComfyOperator.Comfy.Workflows;

namespace ComfyOperator.Comfy.Tests.Workflows;

public sealed class WorkflowGraphTests
{
    [Theory]
    [InlineData("sd15", 7)]
    [InlineData("sdxl", 7)]
    [InlineData("flux-dev", 9)]
    public void Parse_ReferenceGraph_IsValidWithOneSaveImage(string name, int nodes)
    {
        var graph = WorkflowGraph.Parse(ReferenceGraphs.All[name]);

        Assert.Equal(nodes, graph.Count);
        Assert.Empty(graph.Validate());
        Assert.Equal("SaveImage", Assert.Single(graph.FindOutputNodes()).ClassType);
    }

    [Fact]
    public void Validate_Sd15WithObjectInfo_HasNoIssues()
    {
        var graph = WorkflowGraph.Parse(ReferenceGraphs.Sd15);

        Assert.Empty(graph.Validate(TestObjectInfo.Load()));
    }

    [Fact]
    public void Parse_UiWorkflow_SaysItIsTheEditorFormatAndToExportApi()
    {
        const string ui = """
            {"id": "9b1c0e2a-0000-4000-8000-000000000000", "revision": 0, "last_node_id": 9, "last_link_id": 9,
             "nodes": [{"id": 3, "type": "KSampler", "pos": [0, 0], "widgets_values": [42, "randomize", 20, 8, "euler", "normal", 1]},
                       {"id": 9, "type": "SaveImage", "widgets_values": ["ComfyUI"]}],
             "links": [[9, 8, 0, 9, 0, "IMAGE"]], "groups": [], "config": {}, "extra": {}, "version": 0.4}
            """;

        var ex = Assert.Throws<WorkflowFormatException>(() => WorkflowGraph.Parse(ui));

        Assert.Equal(WorkflowFormat.UiWorkflow, ex.Detected);
        Assert.Contains("UI workflow", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 node(s)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Export (API)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UiWorkflowSchema1_IsRecognised()
    {
        const string ui = """{"version": 1, "state": {"lastNodeId": 2}, "nodes": [], "links": [{"id": 1, "origin_id": 1, "origin_slot": 0, "target_id": 2, "target_slot": 0, "type": "IMAGE"}]}""";

        Assert.Equal(WorkflowFormat.UiWorkflow, WorkflowGraph.DetectFormat(JsonNode.Parse(ui)));
    }

    [Fact]
    public void Parse_WholeRequestBody_SaysToSubmitOnlyThePrompt()
    {
        var body = $$$"""{"client_id": "router-worker-7", "prompt": {{{ReferenceGraphs.Sd15}}}}""";

        var ex = Assert.Throws<WorkflowFormatException>(() => WorkflowGraph.Parse(body));

        Assert.Equal(WorkflowFormat.RequestBody, ex.Detected);
        Assert.Contains("request body", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'client_id'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'prompt'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RequestBodyWithUnwrap_ReturnsInnerGraph()
    {
        var body = $$$"""{"prompt": {{{ReferenceGraphs.Sd15}}}, "extra_data": {}}""";

        var graph = WorkflowGraph.Parse(body, unwrapRequestBody: true);

        Assert.Equal(7, graph.Count);
    }

    [Theory]
    [InlineData("[1,2,3]", "array")]
    [InlineData("{}", "no nodes")]
    [InlineData("""{"3": {"inputs": {}}}""", "Node '3' has no class_type")]
    [InlineData("""{"3": 5}""", "Entry '3' is not a node object")]
    [InlineData("{not json", "not valid JSON")]
    public void Parse_NotAnApiPrompt_ExplainsWhy(string json, string expected)
    {
        var ex = Assert.Throws<WorkflowFormatException>(() => WorkflowGraph.Parse(json));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"3": {"inputs": {}}}""", "3", "class_type")]
    [InlineData("""{"3": {"class_type": "SaveImage", "inputs": 5}}""", "3", "inputs")]
    [InlineData("""{"3": 5}""", "3", null)]
    public void Parse_BrokenNode_NamesNodeAndMember(string json, string node, string? member)
    {
        var ex = Assert.Throws<WorkflowFormatException>(() => WorkflowGraph.Parse(json));

        Assert.Equal(node, ex.NodeId);
        Assert.Equal(member, ex.Member);
    }

    [Fact]
    public void Validate_LinkToMissingNode_ReportsMissingTarget()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!;
        json["8"]!["inputs"]!["samples"] = new JsonArray("99", 0);

        var issue = Assert.Single(WorkflowGraph.Parse(json).Validate());

        Assert.Equal(WorkflowIssueCodes.MissingLinkTarget, issue.Code);
        Assert.Equal("8", issue.NodeId);
        Assert.Equal("samples", issue.InputName);
        Assert.Contains("#99", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadOutputIndexWithObjectInfo_NamesTheOutputs()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!;
        json["8"]!["inputs"]!["vae"] = new JsonArray("4", 5);
        var graph = WorkflowGraph.Parse(json);

        Assert.Empty(graph.Validate());
        var issue = Assert.Single(graph.Validate(TestObjectInfo.Load()));

        Assert.Equal(WorkflowIssueCodes.BadOutputIndex, issue.Code);
        Assert.Contains("0 MODEL, 1 CLIP, 2 VAE", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NumericLinkId_SaysToUseAString()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!;
        json["6"]!["inputs"]!["clip"] = new JsonArray(4, 1);
        var graph = WorkflowGraph.Parse(json);

        var issue = Assert.Single(graph.Validate());

        Assert.Equal(WorkflowIssueCodes.NumericLinkId, issue.Code);
        Assert.Contains("[\"4\", 1]", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ListThatIsNotALink_ReportsBadLink()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!;
        json["6"]!["inputs"]!["clip"] = new JsonArray("4", 1, 2);

        var issue = Assert.Single(WorkflowGraph.Parse(json).Validate());

        Assert.Equal(WorkflowIssueCodes.BadLink, issue.Code);
        Assert.Contains("__value__", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoOutputNode_ReportsPromptNoOutputs()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!.AsObject();
        json.Remove("9");

        var issues = WorkflowGraph.Parse(json).Validate();

        Assert.Contains(issues, i => i.Code == WorkflowIssueCodes.NoOutputs);
    }

    [Fact]
    public void Validate_WithObjectInfo_FindsUnknownClassMissingInputTypeAndList()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!.AsObject();
        json["4"]!["inputs"]!["ckpt_name"] = "missing.safetensors";
        json["3"]!["inputs"]!.AsObject().Remove("steps");
        json["3"]!["inputs"]!["cfg"] = "high";
        json["5"]!["inputs"]!["width"] = 4;
        json["20"] = new JsonObject { ["class_type"] = "NotInstalledNode", ["inputs"] = new JsonObject() };

        var issues = WorkflowGraph.Parse(json).Validate(TestObjectInfo.Load());

        Assert.Contains(issues, i => i.Code == WorkflowIssueCodes.ValueNotInList && i.NodeId == "4" && i.InputName == "ckpt_name");
        Assert.Contains(issues, i => i.Code == WorkflowIssueCodes.MissingRequiredInput && i.NodeId == "3" && i.InputName == "steps");
        Assert.Contains(issues, i => i.Code == WorkflowIssueCodes.InvalidInputType && i.NodeId == "3" && i.InputName == "cfg");
        Assert.Contains(issues, i => i.Code == WorkflowIssueCodes.ValueOutOfRange && i.NodeId == "5" && i.InputName == "width");
        Assert.Contains(issues, i => i.Code == WorkflowIssueCodes.UnknownClassType && i.NodeId == "20");
    }

    [Fact]
    public void Validate_TypeMismatchedLink_ReportsReturnTypeMismatch()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!;
        json["8"]!["inputs"]!["vae"] = new JsonArray("4", 0);

        var issue = Assert.Single(WorkflowGraph.Parse(json).Validate(TestObjectInfo.Load()));

        Assert.Equal(WorkflowIssueCodes.ReturnTypeMismatch, issue.Code);
        Assert.Contains("expects VAE", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnconnectedBrokenNode_IsIgnoredLikeComfyUi()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!.AsObject();
        json["50"] = new JsonObject { ["class_type"] = "VAEDecode", ["inputs"] = new JsonObject { ["samples"] = new JsonArray("404", 0) } };

        Assert.Empty(WorkflowGraph.Parse(json).Validate());
    }

    [Fact]
    public void FindOutputNodes_ObjectInfoMarksCustomOutput_UsesIt()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!.AsObject();
        json["30"] = new JsonObject { ["class_type"] = "NewStyleCombo", ["inputs"] = new JsonObject { ["mode"] = "a", ["flag"] = true } };
        var graph = WorkflowGraph.Parse(json);

        Assert.Equal(["9"], graph.FindOutputNodes().Select(n => n.Id));
        Assert.Equal(["9", "30"], graph.FindOutputNodes(TestObjectInfo.Load()).Select(n => n.Id));
    }

    [Fact]
    public void SetInput_WithObjectInfo_ChecksTypesRangesAndChoices()
    {
        var graph = Sd15();
        var info = TestObjectInfo.Load();

        graph.SetInput("3", "seed", 123456789012, info);
        graph.SetInput("3", "cfg", 6.5, info);
        graph.SetInput("3", "sampler_name", "dpmpp_2m", info);
        graph.SetInput("6", "text", "a cat", info);

        Assert.Equal(123456789012, graph.GetNode("3")!.GetInput("seed")!.GetValue<long>());
        Assert.Equal("a cat", graph.GetNode("6")!.GetString("text"));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "steps", 2.5, info));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "steps", 0, info));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "sampler_name", "nope", info));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "cfg", "high", info));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "model", "literal", info));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "sead", 1, info));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("404", "seed", 1, info));
    }

    [Fact]
    public void SetInput_NewStyleComboAndBoolean_AreChecked()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!.AsObject();
        json["30"] = new JsonObject { ["class_type"] = "NewStyleCombo", ["inputs"] = new JsonObject { ["mode"] = "a", ["flag"] = true } };
        var graph = WorkflowGraph.Parse(json);
        var info = TestObjectInfo.Load();

        graph.SetInput("30", "mode", "b", info);
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("30", "mode", "c", info));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("30", "flag", "false", info));
    }

    [Fact]
    public void SetInput_WithoutObjectInfo_KeepsKindAndLinks()
    {
        var graph = Sd15();

        graph.SetInput("3", "seed", 7);
        graph.SetInput("3", "cfg", 7);
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "seed", "7"));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "model", "x"));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("3", "sead", 7));
        graph.SetInput("8", "vae", new JsonArray("4", 2));
        Assert.Throws<WorkflowInputException>(() => graph.SetInput("8", "vae", new JsonArray("77", 2)));
    }

    [Fact]
    public void Clone_ThenSetInput_LeavesOriginalUnchanged()
    {
        var graph = Sd15();
        var copy = graph.Clone();

        copy.SetInput("3", "seed", 999);

        Assert.Equal(42, graph.GetNode("3")!.GetInput("seed")!.GetValue<long>());
        Assert.Equal(999, copy.GetNode("3")!.GetInput("seed")!.GetValue<long>());
    }

    [Fact]
    public void Parse_JsonNode_DoesNotAliasCallerDocument()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!;
        var graph = WorkflowGraph.Parse(json);

        graph.SetInput("3", "seed", 5);

        Assert.Equal(42, json["3"]!["inputs"]!["seed"]!.GetValue<long>());
    }

    [Fact]
    public void ApplyFilenamePrefix_EverySaveNode_GetsRunFolder()
    {
        var json = JsonNode.Parse(ReferenceGraphs.Sd15)!.AsObject();
        json["10"] = new JsonObject { ["class_type"] = "SaveAnimatedWEBP", ["inputs"] = new JsonObject { ["filename_prefix"] = "", ["images"] = new JsonArray("8", 0) } };
        var graph = WorkflowGraph.Parse(json);

        var changed = graph.ApplyFilenamePrefix("run-123");

        Assert.Equal(["9", "10"], changed);
        Assert.Equal("run-123/ComfyUI", graph.GetNode("9")!.GetString("filename_prefix"));
        Assert.Equal("run-123/ComfyUI", graph.GetNode("10")!.GetString("filename_prefix"));
        Assert.Throws<ArgumentException>(() => graph.ApplyFilenamePrefix("../escape"));
    }

    [Fact]
    public void GetModelReferences_Flux_ListsUnetClipsAndVae()
    {
        var refs = WorkflowGraph.Parse(ReferenceGraphs.FluxDev).GetModelReferences();

        Assert.Equal(
            [("diffusion_models", "flux1-dev.safetensors"), ("text_encoders", "clip_l.safetensors"), ("text_encoders", "t5xxl_fp16.safetensors"), ("vae", "ae.safetensors")],
            refs.Select(r => (r.Folder, r.FileName)).OrderBy(r => r.Folder).ThenBy(r => r.FileName));
    }

    [Fact]
    public void GetModelReferences_LorasControlnetUpscaleClipVision_MapToTheirFolders()
    {
        var graph = WorkflowGraph.Parse("""
            {
              "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "SDXL/base.safetensors"}},
              "2": {"class_type": "LoraLoader", "inputs": {"lora_name": "style.safetensors", "strength_model": 1.0, "strength_clip": 1.0, "model": ["1", 0], "clip": ["1", 1]}},
              "3": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "canny.safetensors"}},
              "4": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "4x.pth"}},
              "5": {"class_type": "CLIPVisionLoader", "inputs": {"clip_name": "vit-h.safetensors"}},
              "6": {"class_type": "SomeSampler", "inputs": {"model_name": "not-a-file"}},
              "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["1", 0]}}
            }
            """);

        var refs = graph.GetModelReferences().ToDictionary(r => r.NodeId, r => (r.Folder, r.FileName));

        Assert.Equal(("checkpoints", "SDXL/base.safetensors"), refs["1"]);
        Assert.Equal(("loras", "style.safetensors"), refs["2"]);
        Assert.Equal(("controlnet", "canny.safetensors"), refs["3"]);
        Assert.Equal(("upscale_models", "4x.pth"), refs["4"]);
        Assert.Equal(("clip_vision", "vit-h.safetensors"), refs["5"]);
        Assert.False(refs.ContainsKey("6"));
    }

    [Fact]
    public void GetInputFiles_LoadImageAndMask_ListsFilesWithFolder()
    {
        var graph = WorkflowGraph.Parse("""
            {
              "1": {"class_type": "LoadImage", "inputs": {"image": "uploads/cat.png"}},
              "2": {"class_type": "LoadImageMask", "inputs": {"image": "mask.png [temp]", "channel": "alpha"}},
              "3": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
              "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["3", 0]}}
            }
            """);

        var files = graph.GetInputFiles();

        Assert.Equal(2, files.Count);
        Assert.Equal(("uploads/cat.png", "input"), (files[0].FileName, files[0].FolderType));
        Assert.Equal(("mask.png", "temp"), (files[1].FileName, files[1].FolderType));
    }

    [Fact]
    public void FindNodeByTitle_Sd15_FindsPositivePrompt()
    {
        Assert.Equal("6", Sd15().FindNodeByTitle("Positive Prompt")!.Id);
    }

    private static WorkflowGraph Sd15() => WorkflowGraph.Parse(ReferenceGraphs.Sd15);
}
