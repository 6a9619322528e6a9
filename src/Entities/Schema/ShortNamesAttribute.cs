namespace ComfyOperator.Entities.Schema;

/// <summary>The CRD's <c>names.shortNames</c> (<c>kubectl get cn</c>).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ShortNamesAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;
}
