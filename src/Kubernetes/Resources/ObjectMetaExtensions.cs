using k8s;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Resources;

/// <summary>What the official client's <c>ModelExtensions</c> leave out: the cache key and controller references.</summary>
public static class ObjectMetaExtensions
{
    /// <summary><c>namespace/name</c>, or <c>name</c> for cluster-scoped objects: the informer's cache key.</summary>
    public static string Key(this V1ObjectMeta metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return string.IsNullOrEmpty(metadata.NamespaceProperty) ? metadata.Name ?? string.Empty : $"{metadata.NamespaceProperty}/{metadata.Name}";
    }

    /// <summary>
    /// Makes <paramref name="owner"/> the controller of <paramref name="metadata"/>'s object
    /// (controller and blockOwnerDeletion true), as controller-runtime's <c>SetControllerReference</c>.
    /// Fails if another controller already owns it, or if a namespaced owner lives in another namespace.
    /// </summary>
    public static void SetControllerReference(this V1ObjectMeta metadata, IKubernetesObject<V1ObjectMeta> owner)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(owner);
        var ownerMeta = owner.Metadata;
        if (string.IsNullOrEmpty(ownerMeta.Uid) || string.IsNullOrEmpty(ownerMeta.Name))
        {
            throw new ArgumentException("The owner must have a name and a uid (read it from the API first).", nameof(owner));
        }

        if (!string.IsNullOrEmpty(ownerMeta.NamespaceProperty) && ownerMeta.NamespaceProperty != metadata.NamespaceProperty)
        {
            throw new InvalidOperationException(
                $"Cross-namespace owner references are not allowed: owner {ownerMeta.Key()} for object in namespace '{metadata.NamespaceProperty}'.");
        }

        metadata.OwnerReferences ??= [];
        foreach (var existing in metadata.OwnerReferences)
        {
            if (existing.Controller == true && existing.Uid != ownerMeta.Uid)
            {
                throw new InvalidOperationException($"Object is already controlled by {existing.Kind} {existing.Name}.");
            }
        }

        // A model built in code (new V1Pod { ... }) has no apiVersion/kind until the API returns it.
        var ownerType = ResourceType.Of(owner.GetType());
        var reference = new V1OwnerReference
        {
            ApiVersion = string.IsNullOrEmpty(owner.ApiVersion) ? ownerType.ApiVersion : owner.ApiVersion,
            Kind = string.IsNullOrEmpty(owner.Kind) ? ownerType.Kind : owner.Kind,
            Name = ownerMeta.Name,
            Uid = ownerMeta.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        };
        for (var i = 0; i < metadata.OwnerReferences.Count; i++)
        {
            if (metadata.OwnerReferences[i].Uid == ownerMeta.Uid)
            {
                metadata.OwnerReferences[i] = reference;
                return;
            }
        }

        metadata.OwnerReferences.Add(reference);
    }
}
