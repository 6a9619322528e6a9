namespace ComfyOperator.Comfy.Workflows;

/// <summary>A value cannot be set on a node input (unknown node or input, wrong type, out of range, not in list).</summary>
public sealed class WorkflowInputException : ArgumentException
{
    public WorkflowInputException()
    {
    }

    public WorkflowInputException(string message)
        : base(message)
    {
    }

    public WorkflowInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WorkflowInputException(string nodeId, string inputName, string message)
        : base(message)
    {
        NodeId = nodeId;
        InputName = inputName;
    }

    public string? NodeId { get; }

    public string? InputName { get; }
}
