using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities;

/// <summary>The shared model cache: a PVC the operator creates (<see cref="Create"/>) or one that exists.</summary>
[Description("Shared model cache volume.")]
public sealed class ModelCacheSpec
{
    [Description("Name of the PersistentVolumeClaim holding the models.")]
    [Required]
    [RegularExpression("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    public string ClaimName { get; set; } = string.Empty;

    [Description("Where the cache is mounted in the pod.")]
    [RegularExpression("^/")]
    [DefaultValue("/models-cache")]
    public string MountPath { get; set; } = "/models-cache";

    [Description("Mount the cache read-only in the ComfyUI container (the model sync init container always mounts it writable).")]
    [DefaultValue(false)]
    public bool ReadOnly { get; set; }

    [Description("Create the claim (ReadWriteMany) when it does not exist. The operator never deletes a claim it did not create.")]
    [DefaultValue(false)]
    public bool Create { get; set; }

    [Description("Size of a claim the operator creates.")]
    public ResourceQuantity? Size { get; set; }

    [Description("Storage class of a claim the operator creates; the cluster default when empty.")]
    public string? StorageClassName { get; set; }
}
