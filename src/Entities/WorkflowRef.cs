using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ComfyOperator.Entities;

/// <summary>A ConfigMap key holding the graph.</summary>
[Description("A ConfigMap key holding the API-format graph.")]
public sealed class WorkflowRef
{
    [Description("ConfigMap name, in the deployment's namespace.")]
    [Required]
    public string Name { get; set; } = string.Empty;

    [Description("Key inside the ConfigMap.")]
    [DefaultValue("workflow.json")]
    public string Key { get; set; } = "workflow.json";
}
