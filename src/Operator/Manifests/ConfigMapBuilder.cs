using System.Text.Json;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Models;

namespace ComfyOperator.Operator.Manifests;

/// <summary>The per-node ConfigMap: ComfyUI's extra_model_paths.yaml and the model list for sync-models.</summary>
internal static class ConfigMapBuilder
{
    public static V1ConfigMap Build(ComfyNode node, ManifestDefaults defaults)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(defaults);
        var name = node.Metadata.Name ?? throw new ArgumentException("The node has no name.", nameof(node));
        var models = node.Spec.Models ?? [];
        var data = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ManifestNames.ModelPathsFile] = ModelPathsConfig.Build(CachePath(node, defaults), models.Select(m => m.Folder)),
        };
        if (models.Count > 0)
        {
            data[ManifestNames.ModelsFile] = KubernetesJson.Serialize(models);
        }

        var configMap = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta
            {
                Name = ManifestNames.ConfigMap(name),
                NamespaceProperty = node.Metadata.NamespaceProperty,
                Labels = NodeLabels.For(name),
            },
            Data = data,
        };
        configMap.Metadata.SetControllerReference(node);
        return configMap;
    }

    /// <summary>Where the model cache is mounted: the shared claim's path, or a scratch path.</summary>
    public static string CachePath(ComfyNode node, ManifestDefaults defaults) =>
        node.Spec.ModelCache?.MountPath ?? defaults.ScratchModelPath;
}
