using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Models;

namespace ComfyOperator.Operator.Manifests;

/// <summary>
/// The shared model cache claim, when a node asks the operator to create it. Several nodes share one
/// claim, so each adds itself as a (non-controller) owner: the garbage collector removes the claim
/// only when the last node using it is gone.
/// </summary>
internal static class ModelCacheClaimBuilder
{
    public const string DefaultSize = "100Gi";

    /// <summary>The claim, or null when the node references an existing one (or none).</summary>
    public static V1PersistentVolumeClaim? Build(ComfyNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.IsExternal || node.Spec.ModelCache is not { Create: true } cache)
        {
            return null;
        }

        var claim = new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta
            {
                Name = cache.ClaimName,
                NamespaceProperty = node.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>(StringComparer.Ordinal) { [EntityLabels.ManagedBy] = EntityLabels.ManagedByValue },
                OwnerReferences = [OwnerReference(node)],
            },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteMany"],
                StorageClassName = string.IsNullOrEmpty(cache.StorageClassName) ? null : cache.StorageClassName,
                Resources = new V1VolumeResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal) { ["storage"] = cache.Size ?? DefaultSize },
                },
            },
        };
        return claim;
    }

    /// <summary>A shared-owner reference to <paramref name="node"/> (not the controller, does not block deletion).</summary>
    public static V1OwnerReference OwnerReference(ComfyNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new V1OwnerReference
        {
            ApiVersion = node.ApiVersion ?? EntityApi.ApiVersion,
            Kind = node.Kind ?? "ComfyNode",
            Name = node.Metadata.Name ?? string.Empty,
            Uid = node.Metadata.Uid ?? throw new ArgumentException("The node has no uid (read it from the API first).", nameof(node)),
        };
    }
}
