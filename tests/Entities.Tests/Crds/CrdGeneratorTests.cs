using System.Text.Json.Nodes;
using ComfyOperator.Entities.Crds;

namespace ComfyOperator.Entities.Tests.Crds;

public sealed class CrdGeneratorTests
{
    [Fact]
    public void GenerateAll_CommittedYaml_MatchesGeneratorOutput()
    {
        var directory = Path.Combine(RepositoryRoot.Path, "config", "crds");
        foreach (var (fileName, yaml) in CrdGenerator.GenerateAll())
        {
            var path = Path.Combine(directory, fileName);
            Assert.True(File.Exists(path), $"{path} is missing; run `make crds`.");
            var committed = File.ReadAllText(path);
            Assert.True(committed == yaml, $"{path} is out of date with src/Entities; run `make crds` and commit the result.");
        }

        var extra = Directory.GetFiles(directory, "*.yaml").Select(Path.GetFileName).Except(CrdGenerator.GenerateAll().Keys).ToList();
        Assert.Empty(extra);
    }

    [Fact]
    public void Build_ComfyNode_HasNamesShortNameCategoryAndStatusSubresource()
    {
        var crd = CrdGenerator.Build(typeof(ComfyNode));

        Assert.Equal("comfynodes.comfyoperator.io", (string?)crd["metadata"]!["name"]);
        var spec = crd["spec"]!;
        Assert.Equal("comfyoperator.io", (string?)spec["group"]);
        Assert.Equal("Namespaced", (string?)spec["scope"]);
        Assert.Equal("ComfyNode", (string?)spec["names"]!["kind"]);
        Assert.Equal("ComfyNodeList", (string?)spec["names"]!["listKind"]);
        Assert.Equal("comfynode", (string?)spec["names"]!["singular"]);
        Assert.Equal(["cn"], spec["names"]!["shortNames"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(["comfy"], spec["names"]!["categories"]!.AsArray().Select(n => (string?)n));
        var version = spec["versions"]!.AsArray().Single()!;
        Assert.Equal("v1alpha1", (string?)version["name"]);
        Assert.True((bool)version["storage"]!);
        Assert.NotNull(version["subresources"]!["status"]);
        Assert.Null(version["subresources"]!["scale"]);
    }

    [Fact]
    public void Build_ComfyNode_PrinterColumnsArePhaseEndpointQueueGpuUnschedulableAge()
    {
        var version = CrdGenerator.Build(typeof(ComfyNode))["spec"]!["versions"]![0]!;
        var columns = version["additionalPrinterColumns"]!.AsArray()
            .Where(c => c!["priority"] is null)
            .Select(c => ((string?)c!["name"], (string?)c["jsonPath"], (string?)c["type"]))
            .ToList();

        Assert.Equal(
            [
                ("Phase", ".status.phase", "string"),
                ("Endpoint", ".status.endpoint", "string"),
                ("Queue", ".status.queueRemaining", "integer"),
                ("GPU", ".status.gpu", "string"),
                ("Unschedulable", ".spec.unschedulable", "boolean"),
                ("Age", ".metadata.creationTimestamp", "date"),
            ],
            columns);
    }

    [Fact]
    public void Build_WorkflowDeployment_HasScaleSubresourceAndReadyDesiredScalingColumns()
    {
        var crd = CrdGenerator.Build(typeof(WorkflowDeployment));
        var spec = crd["spec"]!;
        Assert.Equal(["wfd"], spec["names"]!["shortNames"]!.AsArray().Select(n => (string?)n));
        var version = spec["versions"]![0]!;
        var scale = version["subresources"]!["scale"]!;
        Assert.Equal(".spec.replicas", (string?)scale["specReplicasPath"]);
        Assert.Equal(".status.replicas", (string?)scale["statusReplicasPath"]);
        Assert.Equal(".status.selector", (string?)scale["labelSelectorPath"]);
        var columns = version["additionalPrinterColumns"]!.AsArray().Where(c => c!["priority"] is null).Select(c => (string?)c!["name"]);
        Assert.Equal(["Phase", "Ready", "Desired", "Scaling", "Endpoint", "Age"], columns);
        var ready = version["additionalPrinterColumns"]!.AsArray().Single(c => (string?)c!["name"] == "Ready")!;
        Assert.Equal(".status.readyText", (string?)ready["jsonPath"]);
    }

    [Fact]
    public void Build_WorkflowDeployment_WorkflowGraphKeepsUnknownFields()
    {
        var workflow = SpecProperties(typeof(WorkflowDeployment))["workflow"]!;

        Assert.True((bool)workflow["x-kubernetes-preserve-unknown-fields"]!);
        Assert.Equal("object", (string?)workflow["type"]);
        Assert.Null(workflow["properties"]);

        var inputDefault = SpecProperties(typeof(WorkflowDeployment))["inputs"]!["items"]!["properties"]!["default"]!;
        Assert.True((bool)inputDefault["x-kubernetes-preserve-unknown-fields"]!);
        Assert.Null(inputDefault["type"]);
    }

    [Fact]
    public void Build_ComfyNode_ValidationKeywordsComeFromAttributes()
    {
        var spec = SpecProperties(typeof(ComfyNode));

        var port = spec["port"]!;
        Assert.Equal("integer", (string?)port["type"]);
        Assert.Equal(8188, (int)port["default"]!);
        Assert.Equal(1L, (long)port["minimum"]!);
        Assert.Equal(65535L, (long)port["maximum"]!);
        Assert.Equal(1, (int)spec["maxQueue"]!["default"]!);
        Assert.StartsWith("^https?://", (string?)spec["url"]!["pattern"], StringComparison.Ordinal);
        Assert.NotNull(spec["url"]!["description"]);

        var model = spec["models"]!["items"]!;
        Assert.Equal(["url", "folder", "filename"], model["required"]!.AsArray().Select(n => (string?)n));
        Assert.Equal("^[a-f0-9]{64}$", (string?)model["properties"]!["sha256"]!["pattern"]);
        Assert.Equal(["ClusterIP", "NodePort", "LoadBalancer"], spec["service"]!["properties"]!["type"]!["enum"]!.AsArray().Select(n => (string?)n));
        Assert.True((bool)spec["resources"]!["properties"]!["requests"]!["additionalProperties"]!["x-kubernetes-int-or-string"]!);

        var phase = StatusProperties(typeof(ComfyNode))["phase"]!;
        Assert.Equal(ComfyNodePhase.All, phase["enum"]!.AsArray().Select(n => (string?)n));
    }

    [Theory]
    [InlineData(typeof(ComfyNode))]
    [InlineData(typeof(WorkflowDeployment))]
    public void Build_Schema_IsStructural(Type entity)
    {
        var schema = CrdGenerator.Build(entity)["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject();
        var problems = new List<string>();
        CheckStructural(schema, "", problems);
        Assert.Empty(problems);
    }

    [Fact]
    public void GenerateAll_Yaml_ParsesBackToTheSameTree()
    {
        foreach (var type in CrdGenerator.EntityTypes)
        {
            var yaml = CrdGenerator.GenerateAll()[CrdGenerator.FileName(type)];
            var parsed = YamlToJson.Parse(yaml);
            Assert.True(JsonNode.DeepEquals(CrdGenerator.Build(type), parsed), $"YAML of {type.Name} does not read back as generated.");
        }
    }

    private static JsonObject SpecProperties(Type entity) =>
        CrdGenerator.Build(entity)["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!.AsObject();

    private static JsonObject StatusProperties(Type entity) =>
        CrdGenerator.Build(entity)["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["status"]!["properties"]!.AsObject();

    private static void CheckStructural(JsonObject node, string path, List<string> problems)
    {
        var free = node["x-kubernetes-preserve-unknown-fields"] is not null || node["x-kubernetes-int-or-string"] is not null;
        if (node["type"] is null && !free)
        {
            problems.Add($"{path}: no type");
        }

        if (node["properties"] is not null && node["additionalProperties"] is not null)
        {
            problems.Add($"{path}: properties and additionalProperties together");
        }

        foreach (var forbidden in new[] { "$ref", "definitions", "readOnly", "nullable", "uniqueItems" })
        {
            if (node[forbidden] is not null)
            {
                problems.Add($"{path}: {forbidden}");
            }
        }

        if (node["required"] is JsonArray required)
        {
            foreach (var name in required)
            {
                if (node["properties"]?[(string)name!] is null)
                {
                    problems.Add($"{path}: required '{name}' is not a property");
                }
            }
        }

        if (node["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                CheckStructural(child!.AsObject(), $"{path}.{name}", problems);
            }
        }

        if (node["items"] is JsonObject items)
        {
            CheckStructural(items, path + "[]", problems);
        }

        if (node["additionalProperties"] is JsonObject additional)
        {
            CheckStructural(additional, path + "{}", problems);
        }
    }
}
