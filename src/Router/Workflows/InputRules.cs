namespace ComfyOperator.Router.Workflows;

/// <summary>The rules an input value is checked against; the <c>rule</c> of a 400.</summary>
internal static class InputRules
{
    public const string Unknown = "unknown";
    public const string Required = "required";
    public const string Type = "type";
    public const string Min = "min";
    public const string Max = "max";
    public const string Enum = "enum";
    public const string Format = "format";
}
