namespace ComfyOperator.Entities.Schema;

/// <summary>
/// <c>x-kubernetes-preserve-unknown-fields: true</c>: the API server keeps whatever is below this
/// field instead of pruning it (the embedded ComfyUI graph, free-form input defaults).
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class PreserveUnknownFieldsAttribute : Attribute
{
}
