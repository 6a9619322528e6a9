namespace ComfyOperator.Comfy.Workflows;

/// <summary>The JSON kind a value bound to a node input must have (what a declared workflow input promises).</summary>
public enum WorkflowValueKind
{
    /// <summary>A JSON string (also image names and URLs).</summary>
    Text,

    /// <summary>A JSON number without a fraction.</summary>
    WholeNumber,

    /// <summary>Any JSON number.</summary>
    Number,

    /// <summary>true or false.</summary>
    Boolean,
}
