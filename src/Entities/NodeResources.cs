using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Entities;

/// <summary>Resources of the ComfyUI container; <see cref="Gpu"/> becomes <c>nvidia.com/gpu</c>.</summary>
[Description("Resources of the ComfyUI container.")]
public sealed class NodeResources
{
    [Description("Number of NVIDIA GPUs (requested and limited as nvidia.com/gpu). 0 runs ComfyUI with --cpu.")]
    [Range(0, 16)]
    [DefaultValue(1)]
    public int Gpu { get; set; } = 1;

    [Description("Resource requests (cpu, memory, ephemeral-storage...).")]
    public IDictionary<string, ResourceQuantity>? Requests { get; set; }

    [Description("Resource limits (cpu, memory...).")]
    public IDictionary<string, ResourceQuantity>? Limits { get; set; }
}
