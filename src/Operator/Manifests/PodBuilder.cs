using System.Globalization;
using System.Text.Json;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Models;

namespace ComfyOperator.Operator.Manifests;

/// <summary>
/// The pod of a managed ComfyNode, as a pure function of the node's spec and the operator's defaults.
/// The name and the <see cref="EntityAnnotations.TemplateHash"/> annotation carry a hash of the pod
/// template and its config, so any spec change that matters yields a different pod.
/// </summary>
internal static class PodBuilder
{
    private const string ConfigVolume = "comfy-config";
    private const string DataVolume = "comfy-data";
    private const string CacheVolume = "model-cache";

    public static V1Pod Build(ComfyNode node, ManifestDefaults defaults)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(defaults);
        var name = node.Metadata.Name ?? throw new ArgumentException("The node has no name.", nameof(node));
        var configMap = ConfigMapBuilder.Build(node, defaults);
        var podSpec = BuildSpec(node, defaults, configMap.Metadata.Name!);
        var hash = TemplateHash.Compute(
            KubernetesJson.Serialize(podSpec),
            KubernetesJson.Serialize(configMap.Data));

        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = ManifestNames.Pod(name, hash),
                NamespaceProperty = node.Metadata.NamespaceProperty,
                Labels = NodeLabels.For(name),
                Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [EntityAnnotations.TemplateHash] = hash },
            },
            Spec = podSpec,
        };
        pod.Metadata.SetControllerReference(node);
        return pod;
    }

    /// <summary>The template hash the node's current spec gives (what a pod must carry to be current).</summary>
    public static string CurrentHash(ComfyNode node, ManifestDefaults defaults) =>
        Build(node, defaults).Metadata.Annotations![EntityAnnotations.TemplateHash];

    private static V1PodSpec BuildSpec(ComfyNode node, ManifestDefaults defaults, string configMapName)
    {
        var spec = node.Spec;
        var models = spec.Models ?? [];
        var cachePath = ConfigMapBuilder.CachePath(node, defaults);
        var gpu = spec.Resources?.Gpu ?? 1;

        var volumes = new List<V1Volume>
        {
            new() { Name = ConfigVolume, ConfigMap = new V1ConfigMapVolumeSource { Name = configMapName } },
            new()
            {
                Name = DataVolume,

                // Past the limit the kubelet evicts the pod: a bound on what a worker's disk can fill with.
                EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = defaults.ScratchSizeLimit is { } limit ? new ResourceQuantity(limit) : null },
            },
        };
        var hasCache = spec.ModelCache is not null || models.Count > 0;
        if (spec.ModelCache is { } cache)
        {
            volumes.Add(new V1Volume { Name = CacheVolume, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = cache.ClaimName } });
        }
        else if (models.Count > 0)
        {
            // Models but no shared cache: each pod keeps its own copy for its lifetime.
            volumes.Add(new V1Volume { Name = CacheVolume, EmptyDir = new V1EmptyDirVolumeSource() });
        }

        var mounts = new List<V1VolumeMount>
        {
            new() { Name = ConfigVolume, MountPath = ManifestNames.ConfigMountPath, ReadOnlyProperty = true },
            new() { Name = DataVolume, MountPath = ManifestNames.DataMountPath },
        };
        if (hasCache)
        {
            mounts.Add(new V1VolumeMount { Name = CacheVolume, MountPath = cachePath, ReadOnlyProperty = spec.ModelCache?.ReadOnly == true ? true : null });
        }

        var args = new List<string>
        {
            "--listen", "0.0.0.0",
            "--port", spec.Port.ToString(CultureInfo.InvariantCulture),
            "--input-directory", ManifestNames.DataMountPath + "/input",
            "--output-directory", ManifestNames.DataMountPath + "/output",
            "--temp-directory", ManifestNames.DataMountPath,
            "--extra-model-paths-config", ManifestNames.ConfigMountPath + "/" + ManifestNames.ModelPathsFile,
        };
        if (gpu == 0)
        {
            args.Add("--cpu");
        }

        args.AddRange(spec.ExtraArgs ?? []);

        var container = new V1Container
        {
            Name = ManifestNames.ContainerName,
            Image = string.IsNullOrWhiteSpace(spec.Image) ? defaults.ComfyImage : spec.Image,
            ImagePullPolicy = spec.ImagePullPolicy,
            Command = [.. defaults.ComfyCommand],
            Args = args,
            Ports = [new V1ContainerPort { Name = ManifestNames.PortName, ContainerPort = spec.Port, Protocol = "TCP" }],
            Env = Env(node, defaults),
            Resources = Resources(spec.Resources, gpu),
            VolumeMounts = mounts,
            ReadinessProbe = new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = "/system_stats", Port = ManifestNames.PortName },
                PeriodSeconds = 5,
                TimeoutSeconds = 3,
                FailureThreshold = 3,
            },
            Lifecycle = new V1Lifecycle
            {
                PreStop = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["python", "-c", DrainScript(spec.Port, spec.TerminationGracePeriodSeconds)] } },
            },
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false,
                RunAsNonRoot = true,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
        };

        var podSpec = new V1PodSpec
        {
            Containers = [container],
            Volumes = volumes,
            NodeSelector = spec.NodeSelector is { Count: > 0 } selector ? new SortedDictionary<string, string>(selector, StringComparer.Ordinal) : null,
            Tolerations = spec.Tolerations is { Count: > 0 } tolerations ? [.. tolerations] : null,
            TerminationGracePeriodSeconds = spec.TerminationGracePeriodSeconds,

            // The operator replaces a failed pod itself (new pod, fresh model check), like a ReplicaSet would.
            RestartPolicy = "Never",
            SecurityContext = new V1PodSecurityContext
            {
                RunAsNonRoot = true,
                RunAsUser = defaults.RunAsUser,
                RunAsGroup = defaults.RunAsUser,
                FsGroup = defaults.RunAsUser,
                FsGroupChangePolicy = "OnRootMismatch",
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            },
        };

        if (models.Count > 0)
        {
            podSpec.InitContainers =
            [
                new V1Container
                {
                    Name = ManifestNames.SyncContainerName,
                    Image = defaults.OperatorImage,
                    Args =
                    [
                        "sync-models",
                        "--manifest", ManifestNames.ConfigMountPath + "/" + ManifestNames.ModelsFile,
                        "--cache", cachePath,
                    ],
                    VolumeMounts =
                    [
                        new V1VolumeMount { Name = ConfigVolume, MountPath = ManifestNames.ConfigMountPath, ReadOnlyProperty = true },
                        new V1VolumeMount { Name = CacheVolume, MountPath = cachePath },
                    ],
                    SecurityContext = new V1SecurityContext
                    {
                        AllowPrivilegeEscalation = false,
                        RunAsNonRoot = true,
                        Capabilities = new V1Capabilities { Drop = ["ALL"] },
                    },
                },
            ];
        }

        return podSpec;
    }

    /// <summary>The node's own variables, then the cleanup route's token (ours wins over one set by hand).</summary>
    private static List<V1EnvVar>? Env(ComfyNode node, ManifestDefaults defaults)
    {
        var env = new List<V1EnvVar>(node.Spec.Env ?? []);
        if (defaults.WorkerCleanupSecret is { Length: > 0 } secret)
        {
            env.Add(new V1EnvVar { Name = WorkerCleanup.TokenVariable, Value = WorkerCleanup.TokenFor(secret, node.Metadata.NamespaceProperty ?? "default", node.Metadata.Name!) });
        }

        return env.Count > 0 ? env : null;
    }

    private static V1ResourceRequirements Resources(NodeResources? resources, int gpu)
    {
        var requests = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var limits = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        foreach (var (key, value) in resources?.Requests ?? new Dictionary<string, ResourceQuantity>())
        {
            requests[key] = value;
        }

        foreach (var (key, value) in resources?.Limits ?? new Dictionary<string, ResourceQuantity>())
        {
            limits[key] = value;
        }

        if (gpu > 0)
        {
            // Extended resources must be requested and limited alike (limits alone implies the request).
            var count = gpu.ToString(CultureInfo.InvariantCulture);
            limits[GpuResource] = count;
            requests[GpuResource] = count;
        }

        return new V1ResourceRequirements
        {
            Requests = requests.Count > 0 ? requests : null,
            Limits = limits.Count > 0 ? limits : null,
        };
    }

    /// <summary>The extended resource NVIDIA's device plugin advertises.</summary>
    public const string GpuResource = "nvidia.com/gpu";

    /// <summary>
    /// preStop hook: waits until ComfyUI's queue is empty (the running prompt finished), bounded by the
    /// grace period minus a margin, so a rollout or scale-down does not cut a render in half.
    /// </summary>
    internal static string DrainScript(int port, int gracePeriodSeconds)
    {
        var budget = Math.Max(0, gracePeriodSeconds - 5).ToString(CultureInfo.InvariantCulture);
        var portText = port.ToString(CultureInfo.InvariantCulture);
        return string.Join(
            '\n',
            "import json, time, urllib.request",
            $"deadline = time.time() + {budget}",
            "while time.time() < deadline:",
            "    try:",
            $"        q = json.load(urllib.request.urlopen('http://127.0.0.1:{portText}/queue', timeout=5))",
            "    except Exception:",
            "        break",
            "    if not q.get('queue_running') and not q.get('queue_pending'):",
            "        break",
            "    time.sleep(2)");
    }
}
