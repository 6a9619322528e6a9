namespace ComfyOperator.Comfy.Nodes;

/// <summary>Which block of <c>input</c> an input was declared in.</summary>
public enum ComfyInputCategory
{
    Required,
    Optional,
    Hidden,
}
