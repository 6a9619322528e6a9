namespace ComfyOperator.Entities;

/// <summary>Types a public workflow parameter can have (the values of <c>spec.inputs[].type</c>).</summary>
public static class WorkflowInputType
{
    public const string StringType = "string";
    public const string IntegerType = "integer";
    public const string NumberType = "number";
    public const string BooleanType = "boolean";

    /// <summary>A file (upload or URL) placed in the worker's input folder; the graph gets its name.</summary>
    public const string ImageType = "image";

    public static IReadOnlyList<string> All { get; } = [StringType, IntegerType, NumberType, BooleanType, ImageType];
}
