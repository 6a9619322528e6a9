using System.Text.Json;
using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Models;
using ComfyOperator.Kubernetes.Serialization;

namespace ComfyOperator.Operator.Manifests;

/// <summary>The per-node ConfigMap: ComfyUI's extra_model_paths.yaml and the model list for sync-models.</summary>
internal static class ConfigMapBuilder
{
    public static ConfigMap Build(ComfyNode node, ManifestDefaults defaults)
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
            data[ManifestNames.ModelsFile] = JsonSerializer.Serialize(models, KubernetesJson.Options);
        }

        var configMap = new ConfigMap
        {
            Metadata = new ObjectMeta
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
