namespace ComfyOperator.Comfy.Workflows;

/// <summary>The document is not an API-format prompt; the message says what it is and what to do.</summary>
public sealed class WorkflowFormatException : FormatException
{
    public WorkflowFormatException()
    {
    }

    public WorkflowFormatException(string message)
        : base(message)
    {
    }

    public WorkflowFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WorkflowFormatException(WorkflowFormat detected, string message, string? nodeId = null, string? member = null)
        : base(message)
    {
        Detected = detected;
        NodeId = nodeId;
        Member = member;
    }

    /// <summary>What the document looked like.</summary>
    public WorkflowFormat Detected { get; }

    /// <summary>The node the problem is in, when there is one.</summary>
    public string? NodeId { get; }

    /// <summary>The member of that node that is wrong or missing (<c>class_type</c>, <c>inputs</c>), when there is one.</summary>
    public string? Member { get; }
}
