using ComfyOperator.Kubernetes.Resources;
using k8s.Models;

namespace ComfyOperator.Kubernetes.Tests.Integration;

/// <summary>A test custom resource with status and scale subresources.</summary>
[KubernetesEntity(Group = "test.comfyoperator.io", ApiVersion = "v1", Kind = "Widget", PluralName = "widgets")]
public sealed class Widget : CustomResource<WidgetSpec, WidgetStatus>
{
}
