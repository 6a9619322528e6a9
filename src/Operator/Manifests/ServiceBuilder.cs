using ComfyOperator.Entities;
using ComfyOperator.Kubernetes.Resources;
using k8s;
using k8s.Models;

namespace ComfyOperator.Operator.Manifests;

/// <summary>The optional Service in front of a managed node's pod (<c>spec.service.enabled</c>).</summary>
internal static class ServiceBuilder
{
    /// <summary>The Service, or null when the node does not ask for one.</summary>
    public static V1Service? Build(ComfyNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.IsExternal || node.Spec.Service is not { Enabled: true } serviceSpec)
        {
            return null;
        }

        var name = node.Metadata.Name ?? throw new ArgumentException("The node has no name.", nameof(node));
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta
            {
                Name = ManifestNames.Service(name),
                NamespaceProperty = node.Metadata.NamespaceProperty,
                Labels = NodeLabels.For(name),
            },
            Spec = new V1ServiceSpec
            {
                Type = serviceSpec.Type,
                Selector = NodeLabels.Selector(name),
                Ports = [new V1ServicePort { Name = ManifestNames.PortName, Port = node.Spec.Port, TargetPort = ManifestNames.PortName, Protocol = "TCP" }],
            },
        };
        service.Metadata.SetControllerReference(node);
        return service;
    }
}
