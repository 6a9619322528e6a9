using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ComfyOperator.Entities;

/// <summary>A named output: the files an output node produces.</summary>
[Description("A named output of the workflow.")]
public sealed class WorkflowOutput
{
    [Description("Output name in run results.")]
    [Required]
    public string Name { get; set; } = string.Empty;

    [Description("Id of the output node.")]
    [Required]
    public string Node { get; set; } = string.Empty;
}
