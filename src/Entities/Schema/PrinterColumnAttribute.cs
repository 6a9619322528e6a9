namespace ComfyOperator.Entities.Schema;

/// <summary>
/// One <c>additionalPrinterColumns</c> entry of the CRD, in the order the attributes are declared
/// (use <see cref="Order"/> to pin it). <c>kubectl get</c> shows these; <see cref="Priority"/> 1 only with <c>-o wide</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PrinterColumnAttribute(string name, string jsonPath, string type) : Attribute
{
    public string Name { get; } = name;

    /// <summary>A simple JSON path starting with a dot, e.g. <c>.status.phase</c>.</summary>
    public string JsonPath { get; } = jsonPath;

    /// <summary><c>string</c>, <c>integer</c>, <c>number</c>, <c>boolean</c> or <c>date</c>.</summary>
    public string Type { get; } = type;

    public string? Description { get; set; }

    public int Priority { get; set; }

    /// <summary>Position among the columns; reflection does not promise declaration order for attributes.</summary>
    public int Order { get; set; }
}
