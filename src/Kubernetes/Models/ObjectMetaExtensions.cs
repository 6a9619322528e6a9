namespace ComfyOperator.Kubernetes.Models;

/// <summary>Small helpers in the spirit of controller-runtime's controllerutil.</summary>
public static class ObjectMetaExtensions
{
    /// <summary><c>namespace/name</c>, or <c>name</c> for cluster-scoped objects: the informer's cache key.</summary>
    public static string Key(this ObjectMeta metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return string.IsNullOrEmpty(metadata.NamespaceProperty) ? metadata.Name ?? string.Empty : $"{metadata.NamespaceProperty}/{metadata.Name}";
    }

    public static bool HasFinalizer(this ObjectMeta metadata, string finalizer)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.Finalizers?.Contains(finalizer) == true;
    }

    /// <summary>Adds the finalizer if missing; true when the list changed.</summary>
    public static bool AddFinalizer(this ObjectMeta metadata, string finalizer)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        metadata.Finalizers ??= [];
        if (metadata.Finalizers.Contains(finalizer))
        {
            return false;
        }

        metadata.Finalizers.Add(finalizer);
        return true;
    }

    /// <summary>Removes the finalizer if present; true when the list changed.</summary>
    public static bool RemoveFinalizer(this ObjectMeta metadata, string finalizer)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.Finalizers?.Remove(finalizer) == true;
    }

    /// <summary>
    /// Makes <paramref name="owner"/> the controller of <paramref name="metadata"/>'s object
    /// (controller and blockOwnerDeletion true). Fails if another controller already owns it, or if a
    /// namespaced owner lives in another namespace.
    /// </summary>
    public static void SetControllerReference(this ObjectMeta metadata, IKubernetesObject<ObjectMeta> owner)
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

        var reference = new OwnerReference
        {
            ApiVersion = owner.ApiVersion ?? string.Empty,
            Kind = owner.Kind ?? string.Empty,
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
