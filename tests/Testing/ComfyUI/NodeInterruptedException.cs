namespace ComfyOperator.Testing.ComfyUI;

/// <summary>comfy.model_management.InterruptProcessingException: the interrupt flag was seen.</summary>
internal sealed class NodeInterruptedException : Exception
{
    public NodeInterruptedException()
        : base("Processing interrupted")
    {
    }

    public NodeInterruptedException(string message)
        : base(message)
    {
    }

    public NodeInterruptedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
