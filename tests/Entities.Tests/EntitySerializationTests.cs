using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Models;

namespace ComfyOperator.Entities.Tests;

public sealed class EntitySerializationTests
{
    [Fact]
    public void NewComfyNode_ApiVersionAndKind_ComeFromTheEntityAttribute()
    {
        var node = new ComfyNode();

        Assert.Equal("comfyoperator.io/v1alpha1", node.ApiVersion);
        Assert.Equal("ComfyNode", node.Kind);
        Assert.Equal(new ResourceType("comfyoperator.io", "v1alpha1", "ComfyNode", "comfynodes"), ResourceType.Of<ComfyNode>());
        Assert.Equal("comfynodes.comfyoperator.io", ResourceType.Of<ComfyNode>().QualifiedResource);
        Assert.Equal("WorkflowDeployment", new WorkflowDeployment().Kind);
        Assert.Equal("workflowdeployments", ResourceType.Of<WorkflowDeployment>().Plural);
    }

    [Fact]
    public void Deserialize_MinimalManagedNode_TakesCSharpDefaults()
    {
        const string json = """{"apiVersion":"comfyoperator.io/v1alpha1","kind":"ComfyNode","metadata":{"name":"gpu-1","namespace":"default"},"spec":{"image":"comfyui:1"}}""";

        var node = KubernetesJson.Deserialize<ComfyNode>(json)!;

        Assert.False(node.IsExternal);
        Assert.Equal(8188, node.Spec.Port);
        Assert.Equal(1, node.Spec.MaxQueue);
        Assert.Equal(300, node.Spec.TerminationGracePeriodSeconds);
        Assert.Null(node.Status.Phase);
    }

    [Fact]
    public void Deserialize_ExternalNode_IsExternalAndDoesNotSerializeTheFlag()
    {
        var node = KubernetesJson.Deserialize<ComfyNode>("""{"spec":{"url":"http://10.0.0.5:8188"}}""")!;

        Assert.True(node.IsExternal);
        Assert.DoesNotContain("isExternal", KubernetesJson.Serialize(node), StringComparison.Ordinal);
    }

    [Fact]
    public void Serialize_FullComfyNode_RoundTripsUnchanged()
    {
        var node = new ComfyNode
        {
            Metadata = new V1ObjectMeta { Name = "gpu-1", NamespaceProperty = "comfy", Labels = new Dictionary<string, string> { ["tier"] = "a100" } },
            Spec = new ComfyNodeSpec
            {
                Image = "ghcr.io/comfy/comfyui:0.3.64",
                Resources = new NodeResources { Gpu = 2, Requests = new Dictionary<string, ResourceQuantity> { ["memory"] = "32Gi" } },
                ExtraArgs = ["--lowvram"],
                ModelCache = new ModelCacheSpec { ClaimName = "models", Create = true, Size = "500Gi" },
                Models = [new ModelFile { Url = "https://example.com/v1-5.safetensors", Folder = "checkpoints", Filename = "v1-5.safetensors", Sha256 = new string('a', 64) }],
                Probe = new ProbeSpec { PeriodSeconds = 5 },
                Service = new NodeServiceSpec { Enabled = true },
                Tolerations = [new V1Toleration { Key = "nvidia.com/gpu", OperatorProperty = "Exists", Effect = "NoSchedule" }],
            },
            Status = new ComfyNodeStatus
            {
                Phase = ComfyNodePhase.Idle,
                Endpoint = "http://10.1.2.3:8188",
                QueueRemaining = 0,
                Devices = [new DeviceStatus { Name = "cuda:0 NVIDIA H100", Type = "cuda", Index = 0, VramTotal = 84_000_000_000, VramFree = 83_000_000_000 }],
                LastProbeTime = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
                Conditions = [new V1Condition { Type = ConditionTypes.Ready, Status = ConditionStatus.True, Reason = "ProbeSucceeded", ObservedGeneration = 1 }],
            },
        };

        var json = KubernetesJson.Serialize(node);
        var again = KubernetesJson.Serialize(KubernetesJson.Deserialize<ComfyNode>(json));

        Assert.Equal(json, again);
        var tree = JsonNode.Parse(json)!;
        Assert.Equal("2026-01-02T03:04:05Z", (string?)tree["status"]!["lastProbeTime"]);
        Assert.Equal("500Gi", (string?)tree["spec"]!["modelCache"]!["size"]);
        Assert.Equal(2, (int)tree["spec"]!["resources"]!["gpu"]!);
    }

    [Fact]
    public void Serialize_WorkflowDeployment_KeepsTheEmbeddedGraphVerbatim()
    {
        const string json = """
            {"apiVersion":"comfyoperator.io/v1alpha1","kind":"WorkflowDeployment","metadata":{"name":"sd15"},
             "spec":{"workflow":{"3":{"class_type":"KSampler","inputs":{"seed":5,"model":["4",0],"cfg":7.5}}},
                     "inputs":[{"name":"seed","node":"3","input":"seed","type":"integer","default":42,"min":0}],
                     "replicas":2,"template":{"image":"comfyui:1"}}}
            """;

        var deployment = KubernetesJson.Deserialize<WorkflowDeployment>(json)!;
        var written = JsonNode.Parse(KubernetesJson.Serialize(deployment))!;

        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal(42, deployment.Spec.Inputs![0].Default!.Value.GetInt32());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json)!["spec"]!["workflow"], written["spec"]!["workflow"]));
        Assert.Equal(WorkflowInputType.IntegerType, deployment.Spec.Inputs[0].Type);
    }

    [Fact]
    public void DefaultValueAttributes_MatchTheCSharpInitialValues()
    {
        var checkedCount = 0;
        foreach (var type in typeof(ComfyNode).Assembly.GetTypes().Where(t => t.IsClass && t.IsPublic && t.GetConstructor(Type.EmptyTypes) is not null))
        {
            var instance = Activator.CreateInstance(type);
            foreach (var property in type.GetProperties())
            {
                if (property.GetCustomAttribute<DefaultValueAttribute>() is { } attribute)
                {
                    Assert.True(Equals(attribute.Value, property.GetValue(instance)), $"{type.Name}.{property.Name}: CRD default {attribute.Value} but C# default {property.GetValue(instance)}");
                    checkedCount++;
                }
            }
        }

        Assert.True(checkedCount >= 10, $"only {checkedCount} defaults found");
    }

    [Fact]
    public void ValidationError_ToString_NamesNodeAndField()
    {
        var error = new WorkflowValidationError { Node = "3", Field = "seed", Message = "expected an integer" };

        Assert.Equal("node 3, seed: expected an integer", error.ToString());
        Assert.Equal("spec.inputs[0].node: no such node", new WorkflowValidationError { Field = "spec.inputs[0].node", Message = "no such node" }.ToString());
    }

    [Fact]
    public void Deserialize_StatusWithUnknownPhase_DoesNotThrow()
    {
        // Phases are strings, not enums, so a newer operator's value never breaks an older reader (the router).
        var node = KubernetesJson.Deserialize<ComfyNode>("""{"status":{"phase":"Draining","conditions":[]}}""")!;

        Assert.Equal("Draining", node.Status.Phase);
        Assert.Throws<JsonException>(() => KubernetesJson.Deserialize<ComfyNode>("""{"spec":{"port":"8188"}}"""));
    }
}
