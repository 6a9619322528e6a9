using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Resources;
using ComfyOperator.Operator.Manifests;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace ComfyOperator.Operator.Tests.Manifests;

public sealed class ManifestBuilderTests
{
    private static readonly ManifestDefaults Defaults = new() { ComfyImage = "comfy:default", OperatorImage = "operator:1" };

    private static ComfyNode Node(Action<ComfyNodeSpec>? configure = null)
    {
        var node = new ComfyNode
        {
            Metadata = new V1ObjectMeta { Name = "gpu-1", NamespaceProperty = "comfy", Uid = "uid-1", Generation = 1 },
            Spec = new ComfyNodeSpec { Image = "comfy:1" },
        };
        configure?.Invoke(node.Spec);
        return node;
    }

    [Fact]
    public void Build_ManagedNode_RunsComfyUiListeningOnAllInterfacesWithModelPathsConfig()
    {
        var pod = PodBuilder.Build(Node(s => s.Port = 8190), Defaults);

        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal("comfy:1", container.Image);
        Assert.Equal(["python", "main.py"], container.Command);
        var args = string.Join(' ', container.Args!);
        Assert.Contains("--listen 0.0.0.0 --port 8190", args, StringComparison.Ordinal);
        Assert.Contains("--input-directory /comfy-data/input", args, StringComparison.Ordinal);
        Assert.Contains("--output-directory /comfy-data/output", args, StringComparison.Ordinal);
        Assert.Contains("--extra-model-paths-config /etc/comfy-operator/extra_model_paths.yaml", args, StringComparison.Ordinal);
        Assert.Equal(8190, container.Ports!.Single().ContainerPort);
        Assert.Equal("/system_stats", container.ReadinessProbe!.HttpGet!.Path);
        Assert.Equal("gpu-1-comfy", pod.Spec.Volumes!.Single(v => v.ConfigMap is not null).ConfigMap!.Name);
    }

    [Fact]
    public void Build_CleanupSecretAndScratchLimit_PodGetsItsOwnTokenAndABoundedScratchVolume()
    {
        const string secret = "cleanup-secret-0123456789";
        var defaults = Defaults with { ScratchSizeLimit = "20Gi", WorkerCleanupSecret = secret };
        var other = Node();
        other.Metadata.Name = "gpu-2";

        var pod = PodBuilder.Build(Node(), defaults);
        var plain = PodBuilder.Build(Node(), Defaults);

        var token = pod.Spec.Containers[0].Env.Single(e => e.Name == WorkerCleanup.TokenVariable).Value;
        Assert.Equal(WorkerCleanup.TokenFor(secret, "comfy", "gpu-1"), token);
        Assert.DoesNotContain(secret, token, StringComparison.Ordinal);
        Assert.NotEqual(token, PodBuilder.Build(other, defaults).Spec.Containers[0].Env.Single(e => e.Name == WorkerCleanup.TokenVariable).Value);
        Assert.Equal("20Gi", pod.Spec.Volumes.Single(v => v.Name == "comfy-data").EmptyDir.SizeLimit.ToString());
        Assert.Null(plain.Spec.Containers[0].Env);
        Assert.Null(plain.Spec.Volumes.Single(v => v.Name == "comfy-data").EmptyDir.SizeLimit);
    }

    [Fact]
    public void Build_NoImage_UsesTheOperatorDefault()
    {
        var pod = PodBuilder.Build(Node(s => s.Image = null), Defaults);

        Assert.Equal("comfy:default", pod.Spec.Containers[0].Image);
    }

    [Fact]
    public void Build_Gpus_RequestsAndLimitsNvidiaGpu()
    {
        var pod = PodBuilder.Build(Node(s => s.Resources = new NodeResources { Gpu = 2, Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = "32Gi" } }), Defaults);

        var resources = pod.Spec.Containers[0].Resources!;
        Assert.Equal("2", resources.Limits!["nvidia.com/gpu"].ToString());
        Assert.Equal("2", resources.Requests!["nvidia.com/gpu"].ToString());
        Assert.Equal("32Gi", resources.Limits["memory"].ToString());
        Assert.DoesNotContain("--cpu", pod.Spec.Containers[0].Args!);
    }

    [Fact]
    public void Build_ZeroGpus_RunsWithCpuFlagAndNoGpuResource()
    {
        var pod = PodBuilder.Build(Node(s => s.Resources = new NodeResources { Gpu = 0 }), Defaults);

        Assert.Contains("--cpu", pod.Spec.Containers[0].Args!);
        Assert.Null(pod.Spec.Containers[0].Resources!.Limits);
    }

    [Fact]
    public void Build_Pod_RunsAsNonRootWithoutPrivilegeEscalation()
    {
        var pod = PodBuilder.Build(Node(), Defaults);

        Assert.True(pod.Spec.SecurityContext!.RunAsNonRoot);
        Assert.Equal(1000, pod.Spec.SecurityContext.RunAsUser);
        Assert.Equal(1000, pod.Spec.SecurityContext.FsGroup);
        var container = pod.Spec.Containers[0].SecurityContext!;
        Assert.False(container.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], container.Capabilities!.Drop);
    }

    [Fact]
    public void Build_Pod_GracePeriodAndPreStopWaitForTheQueueToDrain()
    {
        var pod = PodBuilder.Build(Node(s => s.TerminationGracePeriodSeconds = 120), Defaults);

        Assert.Equal(120, pod.Spec.TerminationGracePeriodSeconds);
        var script = pod.Spec.Containers[0].Lifecycle!.PreStop!.Exec!.Command!.Last();
        Assert.Contains("http://127.0.0.1:8188/queue", script, StringComparison.Ordinal);
        Assert.Contains("queue_running", script, StringComparison.Ordinal);
        Assert.Contains("time.time() + 115", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Pod_IsControlledByTheNodeAndLabelled()
    {
        var pod = PodBuilder.Build(Node(), Defaults);

        var owner = Assert.Single(pod.Metadata.OwnerReferences!);
        Assert.Equal(("ComfyNode", "gpu-1", "uid-1", true), (owner.Kind, owner.Name, owner.Uid, owner.Controller == true));
        Assert.Equal("gpu-1", pod.Metadata.Labels![EntityLabels.Node]);
        Assert.Equal("comfy-operator", pod.Metadata.Labels[EntityLabels.ManagedBy]);
        Assert.Equal("comfy", pod.Metadata.NamespaceProperty);
    }

    [Fact]
    public void Build_SameSpecTwice_SameNameAndHash()
    {
        var first = PodBuilder.Build(Node(), Defaults);
        var second = PodBuilder.Build(Node(), Defaults);

        Assert.Equal(first.Metadata.Name, second.Metadata.Name);
        Assert.Equal(first.Metadata.Annotations![EntityAnnotations.TemplateHash], second.Metadata.Annotations![EntityAnnotations.TemplateHash]);
        Assert.StartsWith("gpu-1-", first.Metadata.Name, StringComparison.Ordinal);
        Assert.EndsWith(first.Metadata.Annotations[EntityAnnotations.TemplateHash], first.Metadata.Name, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("image")]
    [InlineData("args")]
    [InlineData("models")]
    [InlineData("port")]
    public void Build_SpecChange_ChangesTheTemplateHash(string change)
    {
        var before = PodBuilder.CurrentHash(Node(), Defaults);
        var after = PodBuilder.CurrentHash(
            Node(s =>
            {
                switch (change)
                {
                    case "image": s.Image = "comfy:2"; break;
                    case "args": s.ExtraArgs = ["--lowvram"]; break;
                    case "models": s.Models = [new ModelFile { Url = "http://x/a", Folder = "loras", Filename = "a.safetensors" }]; break;
                    case "port": s.Port = 9000; break;
                }
            }),
            Defaults);

        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Build_StatusOrMaxQueueChange_KeepsTheTemplateHash()
    {
        var node = Node();
        var before = PodBuilder.CurrentHash(node, Defaults);
        node.Spec.MaxQueue = 4;
        node.Spec.Labels = new Dictionary<string, string> { ["tier"] = "fast" };
        node.Status.Phase = ComfyNodePhase.Busy;

        Assert.Equal(before, PodBuilder.CurrentHash(node, Defaults));
    }

    [Fact]
    public void Build_DeclaredModels_AddsSyncInitContainerOnTheSharedCache()
    {
        var pod = PodBuilder.Build(
            Node(s =>
            {
                s.ModelCache = new ModelCacheSpec { ClaimName = "models", MountPath = "/cache", ReadOnly = true };
                s.Models = [new ModelFile { Url = "https://example.com/sd15.safetensors", Folder = "checkpoints", Filename = "sd15.safetensors" }];
            }),
            Defaults);

        var init = Assert.Single(pod.Spec.InitContainers!);
        Assert.Equal("operator:1", init.Image);
        Assert.Equal(["sync-models", "--manifest", "/etc/comfy-operator/models.json", "--cache", "/cache"], init.Args);
        Assert.Contains(init.VolumeMounts!, m => m.MountPath == "/cache" && m.ReadOnlyProperty != true);
        Assert.Contains(pod.Spec.Containers[0].VolumeMounts!, m => m.MountPath == "/cache" && m.ReadOnlyProperty == true);
        Assert.Equal("models", pod.Spec.Volumes!.Single(v => v.PersistentVolumeClaim is not null).PersistentVolumeClaim!.ClaimName);
    }

    [Fact]
    public void Build_NoModels_NoInitContainer()
    {
        Assert.Null(PodBuilder.Build(Node(), Defaults).Spec.InitContainers);
    }

    [Fact]
    public void BuildConfigMap_ModelPaths_PointEveryFolderAtTheCacheAsDefault()
    {
        var node = Node(s =>
        {
            s.ModelCache = new ModelCacheSpec { ClaimName = "models", MountPath = "/models-cache" };
            s.Models = [new ModelFile { Url = "https://x/y", Folder = "ipadapter", Filename = "a.bin" }];
        });

        var configMap = ConfigMapBuilder.Build(node, Defaults);

        Assert.Equal("gpu-1-comfy", configMap.Metadata.Name);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(configMap.Data!["extra_model_paths.yaml"]));
        var section = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children.Single().Value;
        string Get(string key) => ((YamlScalarNode)section.Children[new YamlScalarNode(key)]).Value!;
        Assert.Equal("/models-cache", Get("base_path"));
        Assert.Equal("true", Get("is_default"));
        Assert.Equal("checkpoints", Get("checkpoints"));
        Assert.Equal("text_encoders\nclip\n", Get("text_encoders"));
        Assert.Equal("diffusion_models\nunet\n", Get("diffusion_models"));
        Assert.Equal("ipadapter", Get("ipadapter"));
        Assert.Contains("\"folder\":\"ipadapter\"", configMap.Data["models.json"], StringComparison.Ordinal);
        Assert.Equal("uid-1", configMap.Metadata.OwnerReferences!.Single().Uid);
    }

    [Fact]
    public void BuildService_OnlyWhenEnabled_SelectsTheNodesPod()
    {
        Assert.Null(ServiceBuilder.Build(Node()));

        var service = ServiceBuilder.Build(Node(s => s.Service = new NodeServiceSpec { Enabled = true, Type = "NodePort" }))!;

        Assert.Equal("gpu-1", service.Metadata.Name);
        Assert.Equal("NodePort", service.Spec.Type);
        Assert.Equal("gpu-1", service.Spec.Selector![EntityLabels.Node]);
        Assert.Equal(8188, service.Spec.Ports!.Single().Port);
        Assert.Equal("uid-1", service.Metadata.OwnerReferences!.Single().Uid);
        var pod = PodBuilder.Build(Node(), Defaults);
        Assert.All(service.Spec.Selector, kv => Assert.Equal(kv.Value, pod.Metadata.Labels![kv.Key]));
    }

    [Fact]
    public void BuildClaim_CreateRequested_ReadWriteManySharedOwner()
    {
        Assert.Null(ModelCacheClaimBuilder.Build(Node(s => s.ModelCache = new ModelCacheSpec { ClaimName = "existing" })));

        var claim = ModelCacheClaimBuilder.Build(Node(s => s.ModelCache = new ModelCacheSpec { ClaimName = "models", Create = true, Size = "1Ti", StorageClassName = "nfs" }))!;

        Assert.Equal("models", claim.Metadata.Name);
        Assert.Equal(["ReadWriteMany"], claim.Spec.AccessModes);
        Assert.Equal("1Ti", claim.Spec.Resources!.Requests!["storage"].ToString());
        Assert.Equal("nfs", claim.Spec.StorageClassName);
        var owner = Assert.Single(claim.Metadata.OwnerReferences!);
        Assert.Equal("uid-1", owner.Uid);
        Assert.NotEqual(true, owner.Controller);
    }

    [Fact]
    public void Build_ExternalNode_NoServiceNoClaim()
    {
        var node = Node(s =>
        {
            s.Url = "http://10.0.0.1:8188";
            s.Service = new NodeServiceSpec { Enabled = true };
            s.ModelCache = new ModelCacheSpec { ClaimName = "m", Create = true };
        });

        Assert.Null(ServiceBuilder.Build(node));
        Assert.Null(ModelCacheClaimBuilder.Build(node));
    }

    [Fact]
    public void LabelValue_LongNodeName_StaysValidAndUnique()
    {
        var a = ManifestNames.LabelValue(new string('a', 80));
        var b = ManifestNames.LabelValue(new string('a', 79) + "b");

        Assert.True(a.Length <= 63);
        Assert.NotEqual(a, b);
        Assert.Equal("short", ManifestNames.LabelValue("short"));
    }
}
