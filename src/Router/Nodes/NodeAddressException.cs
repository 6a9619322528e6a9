namespace ComfyOperator.Router.Nodes;

/// <summary>A node list entry that cannot be turned into ComfyUI base URLs; the message names the entry.</summary>
public sealed class NodeAddressException : Exception
{
    public NodeAddressException()
    {
    }

    public NodeAddressException(string message)
        : base(message)
    {
    }

    public NodeAddressException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
