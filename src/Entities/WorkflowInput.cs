using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using ComfyOperator.Entities.Schema;

namespace ComfyOperator.Entities;

/// <summary>One public parameter: the run's <see cref="Name"/> value lands in <c>graph[Node].inputs[Input]</c>.</summary>
[Description("A public parameter of the workflow.")]
public sealed class WorkflowInput
{
    [Description("Parameter name clients send.")]
    [Required]
    [RegularExpression("^[A-Za-z_][A-Za-z0-9_]*$")]
    public string Name { get; set; } = string.Empty;

    [Description("Id of the graph node the value goes to.")]
    [Required]
    public string Node { get; set; } = string.Empty;

    [Description("Input name on that node.")]
    [Required]
    public string Input { get; set; } = string.Empty;

    [Description("string, integer, number, boolean or image.")]
    [AllowedValues(WorkflowInputType.StringType, WorkflowInputType.IntegerType, WorkflowInputType.NumberType, WorkflowInputType.BooleanType, WorkflowInputType.ImageType)]
    [DefaultValue(WorkflowInputType.StringType)]
    public string Type { get; set; } = WorkflowInputType.StringType;

    [Description("Value used when the client sends none (default: the graph's own value).")]
    [PreserveUnknownFields]
    [SchemaType("")]
    public JsonElement? Default { get; set; }

    [Description("The client must send a value.")]
    [DefaultValue(false)]
    public bool Required { get; set; }

    [Description("Smallest allowed value (integer and number).")]
    public double? Min { get; set; }

    [Description("Largest allowed value (integer and number).")]
    public double? Max { get; set; }

    [Description("Allowed values (string).")]
    public IList<string>? Enum { get; set; }

    [Description("What the parameter does, for API docs.")]
    public string? Description { get; set; }
}
