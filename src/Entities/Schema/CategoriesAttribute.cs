namespace ComfyOperator.Entities.Schema;

/// <summary>The CRD's <c>names.categories</c> (<c>kubectl get comfy</c> lists every kind in the category).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class CategoriesAttribute(params string[] categories) : Attribute
{
    public IReadOnlyList<string> Categories { get; } = categories;
}
