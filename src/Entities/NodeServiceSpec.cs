using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ComfyOperator.Entities;

/// <summary>An optional Service in front of a managed node's pod.</summary>
[Description("Optional Service in front of the pod.")]
public sealed class NodeServiceSpec
{
    [Description("Create the Service.")]
    [DefaultValue(false)]
    public bool Enabled { get; set; }

    [Description("Service type.")]
    [AllowedValues("ClusterIP", "NodePort", "LoadBalancer")]
    [DefaultValue("ClusterIP")]
    public string Type { get; set; } = "ClusterIP";
}
