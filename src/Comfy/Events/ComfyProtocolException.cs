namespace ComfyOperator.Comfy.Events;

/// <summary>A frame that is not a ComfyUI message at all (not JSON, no type, truncated binary header).</summary>
public sealed class ComfyProtocolException : Exception
{
    public ComfyProtocolException()
    {
    }

    public ComfyProtocolException(string message)
        : base(message)
    {
    }

    public ComfyProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
