namespace ComfyOperator.Entities.Schema;

/// <summary>
/// Overrides the OpenAPI <c>type</c> of a property whose C# type says too little
/// (a <c>JsonElement</c> that must be an object, say). An empty string leaves the type out (any JSON value).
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class SchemaTypeAttribute(string type) : Attribute
{
    public string Type { get; } = type;
}
