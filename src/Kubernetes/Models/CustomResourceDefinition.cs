using System.Text.Json;

namespace ComfyOperator.Kubernetes.Models;

/// <summary>apiextensions.k8s.io/v1 CustomResourceDefinition (schemas kept as raw JSON).</summary>
[KubernetesEntity(Group = "apiextensions.k8s.io", ApiVersion = "v1", Kind = "CustomResourceDefinition", PluralName = "customresourcedefinitions", Scope = EntityScope.Cluster)]
public sealed class CustomResourceDefinition : KubernetesObject
{
    public CustomResourceDefinitionSpec Spec { get; set; } = new();

    public JsonElement? Status { get; set; }
}
