namespace ComfyOperator.Kubernetes.Models;

/// <summary>
/// Names the API type a class maps to. Same shape as the official client's attribute
/// (Group, ApiVersion, Kind, PluralName) plus the scope, which KubeOps keeps in a second attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class KubernetesEntityAttribute : Attribute
{
    /// <summary>API group; empty for the core group.</summary>
    public string Group { get; set; } = string.Empty;

    /// <summary>The version inside the group, e.g. <c>v1</c> or <c>v1alpha1</c>.</summary>
    public string ApiVersion { get; set; } = "v1";

    /// <summary>The kind; the class name when not set.</summary>
    public string? Kind { get; set; }

    /// <summary>The plural resource name; lowercase kind + "s" when not set.</summary>
    public string? PluralName { get; set; }

    public EntityScope Scope { get; set; } = EntityScope.Namespaced;
}
