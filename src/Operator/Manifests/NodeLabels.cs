using ComfyOperator.Entities;

namespace ComfyOperator.Operator.Manifests;

/// <summary>The labels put on everything made for one ComfyNode.</summary>
internal static class NodeLabels
{
    public static Dictionary<string, string> For(string nodeName) => new(StringComparer.Ordinal)
    {
        [EntityLabels.ManagedBy] = EntityLabels.ManagedByValue,
        [EntityLabels.Name] = EntityLabels.NameValue,
        [EntityLabels.Node] = ManifestNames.LabelValue(nodeName),
    };

    /// <summary>The selector matching a node's pods.</summary>
    public static Dictionary<string, string> Selector(string nodeName) => new(StringComparer.Ordinal)
    {
        [EntityLabels.Name] = EntityLabels.NameValue,
        [EntityLabels.Node] = ManifestNames.LabelValue(nodeName),
    };
}
